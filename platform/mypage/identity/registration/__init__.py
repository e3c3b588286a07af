"""Registration journeys, one module per ``identity.registration.flow`` (chosen_id, email_id, issued_id)."""
