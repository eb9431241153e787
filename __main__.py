"""slm-deploy: the Pulumi program. Load the stack's spec, deploy it, export the endpoints."""

import pulumi

from components.deployment import Deployment
from components.spec import SpecError
from components.stack_config import load_spec

try:
    spec = load_spec()
except SpecError as error:
    # A clean, one-message failure before any resource is registered.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

deployment = Deployment(pulumi.get_stack(), spec)
for name, value in deployment.outputs.items():
    pulumi.export(name, value)
