"""Predictions in Redis: ``layout`` (key names, record fields, the Lua lookup scripts),
``resp`` (column-wise RESP encoding of a publish chunk), ``store`` (PredictionStore: versioned
publish, rollback, lookups) and ``connection`` (a server by URL or the embedded one)."""
