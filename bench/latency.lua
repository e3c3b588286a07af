-- wrk script: at the end of a run, every latency recorded (microseconds) with its count, on one line
-- ("HISTOGRAM value:count ..."), so that runs can be merged and their percentiles read from the whole.
-- latency(i) is the i-th distinct value and its count; past the last one it gives 0.
done = function(summary, latency, requests)
  local parts = {}
  local i = 1
  while true do
    local value, count = latency(i)
    if value == 0 then break end
    parts[#parts + 1] = value .. ":" .. count
    i = i + 1
  end
  io.write("HISTOGRAM " .. table.concat(parts, " ") .. "\n")
end
