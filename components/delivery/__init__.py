"""What pull requests and CI/CD need: render diffs and PR preview stack helpers (no Pulumi)."""
