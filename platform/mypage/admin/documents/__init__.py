"""PDF documents (開通案内, 請求書) uploaded in the console and attached to contracts."""
