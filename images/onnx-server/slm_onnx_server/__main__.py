"""`python -m slm_onnx_server` is the same as the `slm-onnx-server` command."""

from slm_onnx_server.cli import main

raise SystemExit(main())
