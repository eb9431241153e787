"""slm-deploy check: every validator, end to end through the CLI, on fixture renders."""
