"""The AKS platform's resource graph, from the real program under the recording mock.

Every computed output the program reads (ids, names, the OIDC issuer, identities, the vault
URI, the login server, the kubeconfig invoke) is filled by the mock, so the wiring between
resources is visible and asserted here: pools and their taints, roles and their scopes,
the Kubernetes side on the AKS provider only, secrets only in Key Vault and as secrets.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.cost import estimate_cost
from components.engines import build_plans
from components.platforms.aks.roles import BuiltInRole
from components.render import Recording, render_files, run_program
from components.render.recorder import MASK, RecordedResource
from components.spec import parse_config
from tests.conftest import run_stack_program, spec_for, stack_file

AZ = "azure-native:"
CLUSTER = f"{AZ}containerservice:ManagedCluster"
POOL = f"{AZ}containerservice:AgentPool"
ROLE = f"{AZ}authorization:RoleAssignment"
SENTINEL = "hf_SENTINEL_AKS_TOKEN_5d1e"
HELM = "kubernetes:helm.sh/v3:Release"
MANAGED_API = "kubernetes:azmonitoring.coreos.com/v1"
SECRET = "kubernetes:core/v1:Secret"


def one(recording: Recording, type_token: str) -> RecordedResource:
    found = recording.of_type(type_token)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def arm_id(resource: RecordedResource, provider_path: str) -> str:
    """The ARM id the mock gives ``resource`` (what a scope wired from its ``id`` must equal)."""
    group = resource.inputs["resourceGroupName"]
    return f"/subscriptions/<subscription-id>/resourceGroups/{group}/providers/{provider_path}"


def assignments(recording: Recording) -> dict[BuiltInRole, list[RecordedResource]]:
    by_role: dict[BuiltInRole, list[RecordedResource]] = {}
    for assignment in recording.of_type(ROLE):
        role = BuiltInRole(assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
        by_role.setdefault(role, []).append(assignment)
    return by_role


def roles(recording: Recording) -> dict[BuiltInRole, RecordedResource]:
    """Each role's one assignment (Key Vault Secrets User, assigned per secret, is left out)."""
    by_role: dict[BuiltInRole, RecordedResource] = {}
    for role, found in assignments(recording).items():
        if role is BuiltInRole.KEY_VAULT_SECRETS_USER:
            continue
        assert len(found) == 1, f"{role.name} assigned {len(found)} times"
        by_role[role] = found[0]
    return by_role


def managed_aks() -> dict[str, Any]:
    """Staging's aks section with Azure Monitor managed monitoring: the managed path's variant."""
    aks = spec_for("staging").aks
    assert aks is not None
    return aks.model_dump(mode="json", by_alias=True, exclude_none=True) | {"monitoring": "managed"}


@pytest.fixture(scope="module")
def staging() -> Recording:
    return run_stack_program("staging", secrets={"slm-deploy:secrets": {"hfToken": SENTINEL}})


@pytest.fixture(scope="module")
def staging_managed() -> Recording:
    return run_stack_program(
        "staging", {"slm-deploy:aks": managed_aks()}, secrets={"slm-deploy:secrets": {"hfToken": SENTINEL}}
    )


@pytest.fixture(scope="module")
def prod() -> Recording:
    return run_stack_program("prod")


# --- pools ---------------------------------------------------------------------------------


def test_the_system_pool_is_reserved_for_critical_addons_and_autoscaled(prod: Recording) -> None:
    (system,) = one(prod, CLUSTER).inputs["agentPoolProfiles"]
    assert system["mode"] == "System"
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert (system["enableAutoScaling"], system["minCount"], system["maxCount"]) == (True, 2, 3)
    assert system["availabilityZones"] == ["1", "2", "3"]


def test_gpu_pools_are_tainted_labelled_and_autoscaled(staging: Recording) -> None:
    pools = {p.inputs["agentPoolName"]: p.inputs for p in staging.of_type(POOL)}
    gpu = pools["gput4"]
    assert gpu["vmSize"] == "Standard_NC4as_T4_v3", "the catalog sizing's VM for phi-4-mini at 8k x 4"
    assert (gpu["enableAutoScaling"], gpu["minCount"], gpu["maxCount"], gpu["count"]) == (True, 0, 2, 0)
    assert gpu["nodeTaints"] == [
        "nvidia.com/gpu=present:NoSchedule",
        "kubernetes.azure.com/scalesetpriority=spot:NoSchedule",
    ]
    assert gpu["nodeLabels"]["slm-deploy.dev/accelerator"] == "nvidia"
    assert (gpu["scaleSetPriority"], gpu["scaleSetEvictionPolicy"], gpu["spotMaxPrice"]) == ("Spot", "Delete", -1)
    assert gpu["gpuProfile"] == {"driver": "Install"}
    assert gpu["mode"] == "User" and gpu["resourceName"] == "aks-slm-staging"
    apps = pools["apps"]
    assert apps["nodeTaints"] == [] and "gpuProfile" not in apps and apps["enableAutoScaling"] is True


def test_prod_gpu_pool_is_regular_zonal_and_never_empty(prod: Recording) -> None:
    (gpu,) = [p.inputs for p in prod.of_type(POOL) if p.inputs["agentPoolName"] == "gpua10"]
    assert gpu["vmSize"] == "Standard_NV36ads_A10_v5", "the catalog sizing's VM for phi-4-mini at 8k x 8"
    assert gpu["minCount"] >= 1 and gpu["availabilityZones"] == ["1", "2", "3"]
    assert gpu["maxCount"] == 5, "phi4-mini's 4 replicas and the pod a rollout adds first"
    assert "scaleSetPriority" not in gpu
    assert gpu["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]


def test_gpu_operator_replaces_the_aks_driver_and_device_plugin() -> None:
    config = dict(stack_file("staging").config)
    aks = parse_config(config).aks
    assert aks is not None
    settings = aks.model_dump(mode="json", by_alias=True, exclude_none=True) | {"gpuDriver": "operator"}
    recording = run_stack_program("staging", {"slm-deploy:aks": settings})
    gpu = next(p.inputs for p in recording.of_type(POOL) if p.inputs["agentPoolName"] == "gput4")
    assert gpu["gpuProfile"] == {"driver": "None"}
    charts = {r.inputs["chart"]: r.inputs for r in recording.of_type(HELM)}
    assert sorted(charts) == ["dcgm-exporter", "gpu-operator", "kube-prometheus-stack"]
    # One DCGM exporter, monitoring's: the operator's own would export every metric twice.
    assert charts["gpu-operator"]["values"]["dcgmExporter"] == {"enabled": False}


# --- the cluster ---------------------------------------------------------------------------


def test_cluster_security_and_networking(staging: Recording, prod: Recording) -> None:
    for recording in (staging, prod):
        cluster = one(recording, CLUSTER).inputs
        network = cluster["networkProfile"]
        assert (network["networkPlugin"], network["networkPluginMode"]) == ("azure", "overlay")
        assert network["networkPolicy"] == "cilium" and network["networkDataplane"] == "cilium"
        assert cluster["oidcIssuerProfile"] == {"enabled": True}
        assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
        secrets_addon = cluster["addonProfiles"]["azureKeyvaultSecretsProvider"]
        assert secrets_addon == {
            "enabled": True,
            "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        }
        assert cluster["autoUpgradeProfile"]["nodeOSUpgradeChannel"] == "NodeImage"
    staging_cluster, prod_cluster = one(staging, CLUSTER).inputs, one(prod, CLUSTER).inputs
    assert staging_cluster["disableLocalAccounts"] is False and "aadProfile" not in staging_cluster
    assert prod_cluster["disableLocalAccounts"] is True
    assert prod_cluster["aadProfile"] == {"managed": True, "enableAzureRBAC": True, "tenantID": "<tenant-id>"}
    assert (prod_cluster["sku"]["tier"], prod_cluster["autoUpgradeProfile"]["upgradeChannel"]) == ("Standard", "stable")


def test_logs_go_to_the_stacks_workspace(staging: Recording) -> None:
    workspace = one(staging, f"{AZ}operationalinsights:Workspace")
    workspace_id = arm_id(workspace, f"Microsoft.OperationalInsights/workspaces/{workspace.inputs['workspaceName']}")
    cluster = one(staging, CLUSTER).inputs
    assert cluster["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"] == workspace_id
    diagnostics = one(staging, f"{AZ}monitor:DiagnosticSetting").inputs
    assert diagnostics["workspaceId"] == workspace_id
    assert diagnostics["resourceUri"].endswith("/managedClusters/aks-slm-staging")


# --- roles ---------------------------------------------------------------------------------


def test_each_role_is_scoped_to_its_resource_and_principal(staging_managed: Recording) -> None:
    staging = staging_managed
    registry = one(staging, f"{AZ}containerregistry:Registry")
    amw = one(staging, f"{AZ}monitor:AzureMonitorWorkspace")
    grafana = one(staging, f"{AZ}dashboard:Grafana")
    found = roles(staging)
    expected = {
        BuiltInRole.ACR_PULL: (
            arm_id(registry, f"Microsoft.ContainerRegistry/registries/{registry.inputs['registryName']}"),
            "<aks-slm-staging-kubelet.objectId>",
            "ServicePrincipal",
        ),
        BuiltInRole.ACR_PUSH: (
            arm_id(registry, f"Microsoft.ContainerRegistry/registries/{registry.inputs['registryName']}"),
            "<deployer-object-id>",
            "User",
        ),
        BuiltInRole.MONITORING_DATA_READER: (
            arm_id(amw, f"Microsoft.Monitor/accounts/{amw.inputs['azureMonitorWorkspaceName']}"),
            f"<{grafana.inputs['workspaceName']}.principalId>",
            "ServicePrincipal",
        ),
        BuiltInRole.GRAFANA_ADMIN: (
            arm_id(grafana, f"Microsoft.Dashboard/grafana/{grafana.inputs['workspaceName']}"),
            "<deployer-object-id>",
            "User",
        ),
    }
    assert set(found) == set(expected)
    for role, (scope, principal, principal_type) in expected.items():
        inputs = found[role].inputs
        assert (inputs["scope"], inputs["principalId"], inputs["principalType"]) == (scope, principal, principal_type)
        assert inputs["roleDefinitionId"] == (
            f"/subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/{role.value}"
        )


def test_prod_grants_the_deployer_cluster_admin_on_the_cluster_only(prod: Recording) -> None:
    found = roles(prod)
    admin = found[BuiltInRole.AKS_RBAC_CLUSTER_ADMIN].inputs
    assert admin["scope"] == arm_id(one(prod, CLUSTER), "Microsoft.ContainerService/managedClusters/aks-slm-prod")
    assert BuiltInRole.ACR_PUSH not in found, "prod builds no image, so nobody needs push"
    assert BuiltInRole.GRAFANA_ADMIN not in found, "prod monitors in-cluster"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_no_role_is_assigned_at_subscription_or_group_scope(stack: str, staging: Recording, prod: Recording) -> None:
    recording = staging if stack == "staging" else prod
    for assignment in recording.of_type(ROLE):
        assert "/providers/" in assignment.inputs["scope"], assignment.name


def test_the_model_identity_reads_exactly_the_secrets_its_pods_mount(staging: Recording, prod: Recording) -> None:
    """One Key Vault Secrets User assignment per secret the pods read, scoped to that secret."""
    for recording, wanted in ((staging, {"apiKey", "hfToken"}), (prod, {"apiKey"})):
        vault = one(recording, f"{AZ}keyvault:Vault")
        vault_id = arm_id(vault, f"Microsoft.KeyVault/vaults/{vault.inputs['vaultName']}")
        identity = one(recording, f"{AZ}managedidentity:UserAssignedIdentity").inputs["resourceName"]
        readers = assignments(recording)[BuiltInRole.KEY_VAULT_SECRETS_USER]
        scopes = sorted(r.inputs["scope"] for r in readers)
        assert scopes == [f"{vault_id}/secrets/{name}" for name in sorted(wanted)]
        for reader in readers:
            assert (reader.inputs["principalId"], reader.inputs["principalType"]) == (
                f"<{identity}.principalId>",
                "ServicePrincipal",
            )
        assert vault_id not in scopes, "never the whole vault"


# --- secrets -------------------------------------------------------------------------------


def test_secrets_live_in_key_vault_as_secrets(staging: Recording) -> None:
    stored = {s.inputs["secretName"]: s.inputs for s in staging.of_type(f"{AZ}keyvault:Secret")}
    # Only what the model pods read: Grafana's login stays with in-cluster monitoring.
    assert set(stored) == {"apiKey", "hfToken"}
    assert all(inputs["properties"] == MASK for inputs in stored.values())
    vault = one(staging, f"{AZ}keyvault:Vault").inputs["properties"]
    assert vault["enableRbacAuthorization"] is True and vault["enableSoftDelete"] is True
    assert "enablePurgeProtection" not in vault, "off outside prod: Azure refuses an explicit false"


def test_monitoring_secrets_never_enter_the_vault() -> None:
    """Grafana's password and a receiver's URL are the stack's secrets too, but no pod reads them
    from Key Vault: the vault (and the identity's grants) hold the model servers' secrets only."""
    receivers = [{"name": "hook", "type": "webhook", "urlSecret": "hookUrl"}]
    for aks in (None, managed_aks()):
        overrides: dict[str, Any] = {"slm-deploy:alerting": {"receivers": receivers}}
        if aks is not None:
            overrides["slm-deploy:aks"] = aks
        recording = run_stack_program(
            "staging", overrides, secrets={"slm-deploy:secrets": {"hookUrl": "https://hooks.example/x"}}
        )
        stored = {s.inputs["secretName"] for s in recording.of_type(f"{AZ}keyvault:Secret")}
        assert stored == {"apiKey"}, aks and aks["monitoring"]
        scopes = [r.inputs["scope"] for r in assignments(recording)[BuiltInRole.KEY_VAULT_SECRETS_USER]]
        assert [scope.rsplit("/", 1)[1] for scope in scopes] == ["apiKey"]


def test_prod_vault_has_purge_protection(prod: Recording) -> None:
    assert one(prod, f"{AZ}keyvault:Vault").inputs["properties"]["enablePurgeProtection"] is True


def test_no_secret_value_in_any_rendered_file(staging: Recording) -> None:
    spec = spec_for("staging")
    files = render_files(staging, spec)
    assert any(path.startswith("azure/") for path in files)
    for path, content in files.items():
        assert SENTINEL not in content, path
        assert "<aks.kubeconfig>" not in content, path
        assert "<staging-apiKey.result>" not in content, path


def test_the_kubeconfig_is_a_secret_output_from_the_user_credentials(
    staging: Recording, staging_managed: Recording
) -> None:
    assert "kubeconfig" in staging.secret_outputs
    assert staging.outputs["kubeconfig"].startswith("apiVersion: v1")
    tokens = {token: args for token, args in staging.calls}
    assert tokens["azure-native:containerservice:listManagedClusterUserCredentials"] == {
        "resourceGroupName": "slm-staging",
        "resourceName": "aks-slm-staging",
    }
    assert staging.outputs["clusterName"] == "aks-slm-staging"
    assert staging.outputs["keyVaultUri"].startswith("https://kv-staging-")
    assert staging.outputs["registryLoginServer"].endswith(".azurecr.io")
    assert staging_managed.outputs["grafanaEndpoint"].startswith("https://graf-staging")
    assert "grafanaEndpoint" not in staging.outputs, "in-cluster Grafana has no Azure endpoint"
    assert {"clusterName", "keyVaultUri", "registryLoginServer"}.isdisjoint(staging.secret_outputs)


def test_each_model_service_account_is_federated_with_the_workload_identity(staging: Recording) -> None:
    identity = one(staging, f"{AZ}managedidentity:UserAssignedIdentity").inputs
    accounts = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["namespace"]
        for r in staging.of_type("kubernetes:core/v1:ServiceAccount")
    }
    assert accounts == {"phi4-mini": "slm-staging", "qwen3-onnx": "slm-staging"}
    federations = staging.of_type(f"{AZ}managedidentity:FederatedIdentityCredential")
    subjects = set()
    for federation in federations:
        inputs = federation.inputs
        assert inputs["resourceName"] == identity["resourceName"]
        assert inputs["issuer"] == "https://westeurope.oic.prod-aks.azure.com/<tenant-id>/<aks-slm-staging-issuer>/"
        assert inputs["audiences"] == ["api://AzureADTokenExchange"]
        subjects.add(inputs["subject"])
    assert subjects == {f"system:serviceaccount:{ns}:{sa}" for sa, ns in accounts.items()}


def test_no_kubernetes_secret_and_pods_read_key_vault_through_csi(staging: Recording) -> None:
    secrets = {(s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]) for s in staging.of_type(SECRET)}
    # The model servers' values stay in Key Vault; in-cluster monitoring's own login is the only Secret.
    assert secrets == {("monitoring", "slm-grafana-admin")}
    identity = one(staging, f"{AZ}managedidentity:UserAssignedIdentity").inputs["resourceName"]
    vault = one(staging, f"{AZ}keyvault:Vault").inputs["vaultName"]
    classes = {}
    for spc in staging.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"):
        parameters = spc.inputs["spec"]["parameters"]
        assert (parameters["clientID"], parameters["keyvaultName"]) == (f"<{identity}.clientId>", vault)
        assert parameters["usePodIdentity"] == "false" and parameters["tenantId"] == "<tenant-id>"
        classes[spc.inputs["metadata"]["name"]] = parameters["objects"]
    assert classes, "one SecretProviderClass per set of secret files"
    for deployment in staging.of_type("kubernetes:apps/v1:Deployment"):
        volumes = deployment.inputs["spec"]["template"]["spec"]["volumes"]
        csi = [v["csi"] for v in volumes if "csi" in v]
        assert csi, deployment.name
        for source in csi:
            assert source["driver"] == "secrets-store.csi.k8s.io" and source["readOnly"] is True
            assert source["volumeAttributes"]["secretProviderClass"] in classes
        assert not any("secret" in v for v in volumes), "no Kubernetes Secret volume"
    fetched = [re.findall(r"objectName: (\w+)", objects) for objects in classes.values()]
    assert {name for names in fetched for name in names} == {"apiKey", "hfToken"}
    assert all(len(names) == 1 for names in fetched), "the server never mounts hfToken, the fetch step never apiKey"


def test_gpu_pods_tolerate_the_spot_pools_they_may_land_on(staging: Recording, prod: Recording) -> None:
    def tolerations(recording: Recording) -> set[str]:
        (gpu,) = [d for d in recording.of_type("kubernetes:apps/v1:Deployment") if "phi4-mini" in d.name]
        return {t["key"] for t in gpu.inputs["spec"]["template"]["spec"]["tolerations"]}

    assert tolerations(staging) == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}
    assert tolerations(prod) == {"nvidia.com/gpu"}


def test_the_model_cache_uses_an_aks_storage_class(staging: Recording) -> None:
    claims = staging.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert claims and {c.inputs["spec"]["storageClassName"] for c in claims} == {"azurefile-csi-premium"}
    assert one(staging, CLUSTER).inputs["workloadAutoScalerProfile"] == {"keda": {"enabled": True}}


# --- registry and images -------------------------------------------------------------------


def test_registry_has_no_admin_user_and_receives_the_onnx_images(staging: Recording) -> None:
    registry = one(staging, f"{AZ}containerregistry:Registry").inputs
    assert registry["adminUserEnabled"] is False and registry["anonymousPullEnabled"] is False
    login_server = staging.outputs["registryLoginServer"]
    pushed = {}
    for image in staging.of_type("docker-build:index:Image"):
        assert image.inputs["push"] is True
        assert image.inputs["registries"] == [{"address": login_server}]
        (tag,) = image.inputs["tags"]
        assert tag.startswith(f"{login_server}/slm-onnx-")
        pushed[tag] = f"{tag}@sha256:<{image.name}.digest>"
    assert pushed, "the ONNX server is built by the program"
    (onnx,) = [d for d in staging.of_type("kubernetes:apps/v1:Deployment") if "qwen3-onnx" in d.name]
    pod = onnx.inputs["spec"]["template"]["spec"]
    images = {c["image"] for c in pod["containers"] + pod["initContainers"]}
    assert images <= set(pushed.values()) and images, "pods run exactly the pushed images, by digest"


# --- the Kubernetes side -------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_objects_use_the_aks_provider_only(stack: str, staging: Recording, prod: Recording) -> None:
    recording = staging if stack == "staging" else prod
    (provider,) = recording.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == MASK
    kubernetes = [r for r in recording.resources if r.type.startswith("kubernetes:") and r.custom]
    assert kubernetes, "the device plugin at least"
    for resource in kubernetes:
        assert resource.provider == provider.urn, f"{resource.name} uses {resource.provider}"


def test_the_device_plugin_runs_only_on_gpu_nodes(staging: Recording, prod: Recording) -> None:
    for recording in (staging, prod):
        (plugin,) = [r for r in recording.of_type(HELM) if r.inputs["chart"] == "nvidia-device-plugin"]
        values = plugin.inputs["values"]
        (term,) = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        assert term == {
            "matchExpressions": [{"key": "slm-deploy.dev/accelerator", "operator": "In", "values": ["nvidia"]}]
        }
        assert {t["key"] for t in values["tolerations"]} == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}
        assert plugin.inputs["namespace"] == "kube-system" and plugin.inputs["version"]


# --- managed monitoring --------------------------------------------------------------------


def test_managed_prometheus_is_wired_to_the_cluster(staging_managed: Recording) -> None:
    staging = staging_managed
    cluster = one(staging, CLUSTER)
    cluster_id = arm_id(cluster, "Microsoft.ContainerService/managedClusters/aks-slm-staging")
    assert cluster.inputs["azureMonitorProfile"] == {"metrics": {"enabled": True}}
    amw = one(staging, f"{AZ}monitor:AzureMonitorWorkspace")
    rule = one(staging, f"{AZ}monitor:DataCollectionRule").inputs
    assert rule["destinations"]["monitoringAccounts"][0]["accountResourceId"].endswith(
        f"/accounts/{amw.inputs['azureMonitorWorkspaceName']}"
    )
    associations = {
        a.inputs["associationName"]: a.inputs for a in staging.of_type(f"{AZ}monitor:DataCollectionRuleAssociation")
    }
    assert {a["resourceUri"] for a in associations.values()} == {cluster_id}
    assert "configurationAccessEndpoint" in associations
    grafana = one(staging, f"{AZ}dashboard:Grafana").inputs
    integrations = grafana["properties"]["grafanaIntegrations"]["azureMonitorWorkspaceIntegrations"]
    assert integrations == [
        {
            "azureMonitorWorkspaceResourceId": arm_id(
                amw, f"Microsoft.Monitor/accounts/{amw.inputs['azureMonitorWorkspaceName']}"
            )
        }
    ]
    group = one(staging, f"{AZ}monitor:ActionGroup").inputs
    assert group["emailReceivers"] == [
        {"name": "staging-oncall", "emailAddress": "slm-staging@example.com", "useCommonAlertSchema": True}
    ]
    assert len(group["groupShortName"]) <= 12


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_in_cluster_monitoring_creates_no_azure_monitoring(stack: str, staging: Recording, prod: Recording) -> None:
    recording = staging if stack == "staging" else prod
    assert one(recording, CLUSTER).inputs["azureMonitorProfile"] == {"metrics": {"enabled": False}}
    for kind in ("AzureMonitorWorkspace", "DataCollectionRule", "ActionGroup"):
        assert not recording.of_type(f"{AZ}monitor:{kind}")
    assert not recording.of_type(f"{AZ}dashboard:Grafana")
    assert "grafanaEndpoint" not in recording.outputs


# --- render --------------------------------------------------------------------------------


def test_the_azure_folder_has_one_readable_file_per_resource(staging: Recording) -> None:
    spec = spec_for("staging")
    files = render_files(staging, spec)
    azure = {path: text for path, text in files.items() if path.startswith("azure/")}
    custom = [r for r in staging.resources if r.type.startswith(AZ) and r.custom]
    assert len(azure) == len(custom)
    assert "role: AcrPull" in azure["azure/roleassignment/staging-acr-pull.yaml"]
    assert "name: aks-slm-staging" in azure["azure/managedcluster/staging-aks.yaml"]
    assert (
        render_files(run_stack_program("staging", secrets={"slm-deploy:secrets": {"hfToken": SENTINEL}}), spec) == files
    )


# --- policy pack ---------------------------------------------------------------------------


def policy_findings(recording: Recording, overrides: dict[str, Any] | None = None) -> list[str]:
    """Every CrossGuard rule over every resource, as ``slm-deploy check`` runs them on plan.json."""
    from components.check.crossguard import _args
    from policies.rules import RULES

    config = dict(stack_file(recording.stack).config)
    config.update({k: json.dumps(v) for k, v in (overrides or {}).items()})
    plan = json.loads(render_files(recording, parse_config(config))["plan.json"])
    found: list[str] = []
    for resource in plan["resources"]:
        for rule in RULES:

            def report(message: str, urn: str | None = None, name: str = rule.name) -> None:
                found.append(f"{name}: {message}")

            rule.validate(_args(resource), report)
    return found


def test_the_policy_pack_passes_both_stacks(staging: Recording, prod: Recording) -> None:
    assert policy_findings(staging) == []
    assert policy_findings(prod) == []


def test_the_policy_pack_passes_managed_monitoring(staging_managed: Recording) -> None:
    assert policy_findings(staging_managed, {"slm-deploy:aks": managed_aks()}) == []


def test_the_policy_pack_catches_a_weakened_prod() -> None:
    aks = spec_for("prod").aks
    assert aks is not None
    weakened = aks.model_dump(mode="json", by_alias=True, exclude_none=True) | {
        "keyVaultPurgeProtection": False,
        "localAccounts": True,
    }
    found = policy_findings(run_stack_program("prod", {"slm-deploy:aks": weakened}))
    assert sorted(found) == [
        "aks-local-accounts-off-in-prod: prod AKS cluster: disableLocalAccounts must be true",
        "key-vault-purge-protection: prod Key Vault: properties.enablePurgeProtection must be true",
    ]


# --- dashboards on Managed Grafana ---------------------------------------------------------


def test_managed_grafana_imports_the_dashboards() -> None:
    from components.platforms.aks import AksPlatform
    from components.secrets import StackSecrets

    spec = spec_for("staging", {"slm-deploy:aks": managed_aks()})
    overview = json.dumps({"uid": "slm-overview", "title": "SLM overview", "panels": []})

    def program() -> None:
        secrets = StackSecrets("staging", spec, {"apiKey"})
        AksPlatform(
            "staging",
            spec,
            secrets,
            namespace="slm-staging",
            service_accounts=["phi4-mini"],
            dashboards={"overview.json": overview},
        )

    recording = run_program(program, {}, stack="staging")
    (imported,) = recording.of_type("command:local:Command")
    assert imported.inputs["stdin"] == overview
    assert imported.inputs["environment"] == {
        "GRAFANA": "graf-staging",
        "RESOURCE_GROUP": "slm-staging",
        "UID": "slm-overview",
    }
    assert "az grafana dashboard import" in imported.inputs["create"]
    assert '--dashboard "$UID"' in imported.inputs["delete"]


def test_a_dashboard_without_uid_cannot_be_imported() -> None:
    from components.platforms.aks.grafana_dashboards import dashboard_uid

    with pytest.raises(ValueError, match="uid"):
        dashboard_uid(json.dumps({"title": "no uid"}))


# --- observability on AKS ------------------------------------------------------------------


def test_managed_monitoring_carries_every_alert_of_observability(staging_managed: Recording) -> None:
    from components.engines import build_plans
    from components.observability.rules import rule_groups

    staging = staging_managed
    spec = spec_for("staging", {"slm-deploy:aks": managed_aks()})
    expected = {g.name: [r["alert"] for r in g.to_group()["rules"]] for g in rule_groups(spec, build_plans(spec))}
    groups = staging.of_type(f"{AZ}alertsmanagement:PrometheusRuleGroup")
    found = {g.inputs["ruleGroupName"].removeprefix("slm-staging-"): g.inputs for g in groups}
    assert {name: [r["alert"] for r in g["rules"]] for name, g in found.items()} == expected
    action_group = one(staging, f"{AZ}monitor:ActionGroup").inputs["actionGroupName"]
    cluster = one(staging, CLUSTER)
    for group in found.values():
        assert group["scopes"][1] == arm_id(cluster, "Microsoft.ContainerService/managedClusters/aks-slm-staging")
        assert group["clusterName"] == "aks-slm-staging"
        match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", group["interval"])
        assert match, group["interval"]
        hours, minutes, seconds = match.groups()
        interval = 3600 * int(hours or 0) + 60 * int(minutes or 0) + int(seconds or 0)
        assert 60 <= interval <= 900, f"Azure evaluates every 1 to 15 minutes, not {group['interval']}"
        for rule in group["rules"]:
            (action,) = rule["actions"]
            assert set(action) == {"actionGroupId"}
            assert action["actionGroupId"].endswith(f"/actionGroups/{action_group}")
            assert rule["severity"] in (0, 2, 3)


def test_managed_monitoring_scrapes_with_the_managed_agent_and_imports_dashboards(staging_managed: Recording) -> None:
    staging = staging_managed
    monitors = {m.inputs["metadata"]["name"]: m.inputs for m in staging.of_type(f"{MANAGED_API}:PodMonitor")}
    assert set(monitors) == {"slm-vllm", "slm-onnx", "slm-dcgm"}
    assert {monitors[m]["metadata"]["namespace"] for m in ("slm-vllm", "slm-onnx")} == {"slm-staging"}
    assert not staging.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor"), "no operator CRDs on managed"
    assert not [r for r in staging.of_type(HELM) if r.inputs["chart"] == "kube-prometheus-stack"]
    uids = {c.inputs["environment"]["UID"] for c in staging.of_type("command:local:Command")}
    assert {"slm-overview", "slm-vllm", "slm-onnx"} <= uids
    policies = staging.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    monitoring = [p for p in policies if p.inputs["metadata"]["name"].endswith("-monitoring")]
    assert monitoring, "the managed agent in kube-system may scrape the metrics ports"
    for policy in monitoring:
        (rule,) = policy.inputs["spec"]["ingress"]
        namespaces = [e["values"] for f in rule["from"] for e in f["namespaceSelector"]["matchExpressions"]]
        assert namespaces == [["kube-system"]]


def test_in_cluster_monitoring_is_observabilitys_kubernetes_component_on_the_aks_provider(prod: Recording) -> None:
    (provider,) = prod.of_type("pulumi:providers:kubernetes")
    (stack,) = [r for r in prod.of_type(HELM) if r.inputs["chart"] == "kube-prometheus-stack"]
    assert stack.provider == provider.urn
    rules = prod.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert {r.inputs["metadata"]["name"] for r in rules} == {"slm-vllm", "slm-gpu"}
    assert not prod.of_type(f"{AZ}alertsmanagement:PrometheusRuleGroup")


def test_previews_find_the_monitoring_they_rely_on_in_the_staging_cluster(staging: Recording) -> None:
    """A preview installs no monitoring: its PodMonitors, Probes and PrometheusRules are for the
    operator of the cluster it deploys into, staging's, in the namespace its policies open."""
    preview = spec_for("preview").kubernetes
    assert preview is not None and preview.stack_reference is not None
    assert preview.stack_reference.stack.endswith("/staging") and not preview.install_monitoring
    (chart,) = [r for r in staging.of_type(HELM) if r.inputs["chart"] == "kube-prometheus-stack"]
    assert (chart.inputs["name"], chart.inputs["namespace"]) == (
        preview.monitoring_release,
        preview.monitoring_namespace,
    )


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_managed_control_plane_is_not_scraped(stack: str, staging: Recording, prod: Recording) -> None:
    """AKS runs controller manager, scheduler and etcd out of reach, and Cilium replaces
    kube-proxy: the chart scrapes none of them, so their alerts cannot fire forever."""
    recording = staging if stack == "staging" else prod
    (chart,) = [r for r in recording.of_type(HELM) if r.inputs["chart"] == "kube-prometheus-stack"]
    values = chart.inputs["values"]
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[component] == {"enabled": False}, component


def test_a_calico_cluster_keeps_scraping_kube_proxy() -> None:
    aks = spec_for("staging").aks
    assert aks is not None
    settings = aks.model_dump(mode="json", by_alias=True, exclude_none=True)
    settings["network"] = {**settings["network"], "policy": "calico"}
    recording = run_stack_program("staging", {"slm-deploy:aks": settings})
    (chart,) = [r for r in recording.of_type(HELM) if r.inputs["chart"] == "kube-prometheus-stack"]
    assert "kubeProxy" not in chart.inputs["values"], "the chart's default: scraped"
    assert chart.inputs["values"]["kubeEtcd"] == {"enabled": False}


def test_the_dcgm_exporter_runs_on_gpu_nodes_only_with_the_device_plugins_tolerations(
    prod: Recording, staging_managed: Recording
) -> None:
    for recording in (prod, staging_managed):
        releases = {r.inputs["chart"]: r.inputs for r in recording.of_type(HELM)}
        dcgm, plugin = releases["dcgm-exporter"]["values"], releases["nvidia-device-plugin"]["values"]
        assert dcgm["nodeSelector"] == {"slm-deploy.dev/accelerator": "nvidia"}, "no crash loop on CPU nodes"
        assert dcgm["tolerations"] == plugin["tolerations"]
        assert {t["key"] for t in dcgm["tolerations"]} == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}


def test_managed_monitoring_scrapes_the_dcgm_exporter_its_gpu_rules_read(staging_managed: Recording) -> None:
    (release,) = [r.inputs for r in staging_managed.of_type(HELM) if r.inputs["chart"] == "dcgm-exporter"]
    assert release["namespace"] == "kube-system"
    assert release["values"]["serviceMonitor"] == {"enabled": False}, "no operator CRD for it on managed"
    (monitor,) = [
        m.inputs
        for m in staging_managed.of_type(f"{MANAGED_API}:PodMonitor")
        if m.inputs["metadata"]["name"] == "slm-dcgm"
    ]
    assert monitor["metadata"]["namespace"] == "kube-system"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["kube-system"]}
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "dcgm-exporter",
        "app.kubernetes.io/instance": release["name"],
    }
    (endpoint,) = spec["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["relabelings"] == [{"targetLabel": "job", "replacement": "dcgm"}]
    groups = {
        g.inputs["ruleGroupName"]: g.inputs
        for g in staging_managed.of_type(f"{AZ}alertsmanagement:PrometheusRuleGroup")
    }
    gpu_rules = groups["slm-staging-slm-gpu"]["rules"]
    assert gpu_rules and all('job="dcgm"' in rule["expression"] for rule in gpu_rules)


@pytest.mark.parametrize(
    ("observability", "workspace", "grafana"),
    [({"enabled": False}, False, False), ({"grafana": False}, True, False), ({}, True, True)],
    ids=["observability-off", "grafana-off", "both-on"],
)
def test_managed_monitoring_creates_only_what_observability_asks_for(
    observability: dict[str, Any], workspace: bool, grafana: bool
) -> None:
    """``aks.monitoring: managed`` picks Azure Monitor for the stack's monitoring; with observability
    off nothing is created or enabled, with Grafana off no (paid) Managed Grafana, and the cost
    estimate counts the same."""
    overrides = {"slm-deploy:aks": managed_aks(), "slm-deploy:observability": observability}
    recording = run_stack_program("staging", overrides)
    (cluster,) = recording.of_type(f"{AZ}containerservice:ManagedCluster")
    assert cluster.inputs["azureMonitorProfile"]["metrics"]["enabled"] is workspace
    assert bool(recording.of_type(f"{AZ}monitor:AzureMonitorWorkspace")) is workspace
    assert bool(recording.of_type(f"{AZ}alertsmanagement:PrometheusRuleGroup")) is workspace
    assert bool(recording.of_type(f"{AZ}dashboard:Grafana")) is grafana
    assert ("grafanaEndpoint" in recording.outputs) is grafana
    assert recording.outputs["grafanaAdminPassword"] is None, "Managed Grafana signs in with Entra ID"
    spec = spec_for("staging", overrides)
    lines = {line.item for line in estimate_cost("staging", spec, build_plans(spec)).lines}
    assert ("Managed Prometheus ingestion" in lines) is workspace
    assert ("Managed Grafana (Standard)" in lines) is grafana
