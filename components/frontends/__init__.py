"""Front ends people use next to the model servers (local stacks)."""
