"""Encoders: loading checkpoints, pooling, presets. Imported lazily: it pulls in torch."""
