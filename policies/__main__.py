"""The policy pack, for ``pulumi preview --policy-pack policies`` (Pulumi CLI only).

This is the only place a PolicyPack is built: its constructor starts the analyzer's gRPC
server and never returns, so tests and ``slm-deploy check`` use ``policies.rules`` instead.
"""

import sys
from pathlib import Path

# The CLI runs this file as a script from policies/; make ``policies`` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.rules import policies

PolicyPack(
    name="slm-deploy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
