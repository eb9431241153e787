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
pulumi.export("endpoints", deployment.endpoints)
pulumi.export("servedModelNames", deployment.served_model_names)
pulumi.export("apiKeys", deployment.api_keys)
pulumi.export("grafanaUrl", deployment.grafana_url)
pulumi.export("grafanaAdminPassword", deployment.grafana_admin_password)
pulumi.export("openWebUiUrl", deployment.open_webui_url)
for key, value in sorted(deployment.target_outputs.items()):
    pulumi.export(key, value)
