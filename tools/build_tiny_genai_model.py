"""Build the tiny onnxruntime-genai model that the ONNX server's tests and benchmark run on.

The model is a real Llama-architecture decoder (2 layers, hidden size 64) with random
weights, converted by onnxruntime-genai's own model builder, plus a byte-level BPE
tokenizer trained here on a short built-in text, with a chat template. It generates
gibberish, quickly: tests assert protocol behaviour, token counts and limits, never text.
Everything runs offline; nothing is downloaded from a model hub.

The heavy packages live in a scratch virtualenv, never in the project's .venv:

    python3 -m venv /tmp/fixture-venv
    /tmp/fixture-venv/bin/pip install torch==2.13.0 transformers tokenizers onnx onnx-ir \\
        onnxruntime-genai==0.18.0
    /tmp/fixture-venv/bin/python tools/build_tiny_genai_model.py            # writes the fixture
    /tmp/fixture-venv/bin/python tools/build_tiny_genai_model.py --out DIR  # anywhere else

(`torch==2.13.0` exactly: it is the CPU wheel; other specs pull a multi-GB CUDA build.)
The output replaces tests/fixtures/tiny-genai/; commit the result. The weights come from a
fixed seed, so a rebuild with the same package versions gives the same model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "tiny-genai"

# Context length of the tiny model: long enough that a generation cannot finish before a
# test disconnects or sends SIGTERM, short enough to keep the rotary cache (context x
# head_size floats, twice) small and "prompt longer than the context" cheap to provoke.
CONTEXT_LENGTH = 8192
VOCAB_SIZE = 512
SEED = 20240601

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

# Phi-3 style turns; the generation prompt opens the assistant's turn.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

# Training text for the tokenizer: any English prose does; this is the project's own.
CORPUS = """
slm-deploy turns one typed description of an environment into a running, monitored and
secured small language model service: on the local Docker engine for development, on any
Kubernetes cluster, or on an AKS cluster that the same program provisions. A developer runs
make up and gets a model server, Prometheus, Alertmanager and Grafana with dashboards. The
ONNX Runtime server answers the OpenAI chat completions protocol, streams tokens as server
sent events, counts prompt and generated tokens exactly, and exports metrics with the same
names as vLLM under its own prefix, so that dashboards and alerts are shared by template.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
How vexingly quick daft zebras jump! Sphinx of black quartz, judge my vow. 0123456789
Hello, how are you today? What is the capital of France? Tell me a story about a robot who
learns to paint. Summarise the following text in one sentence. Translate into German.
"""


def train_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE (GPT-2 / Llama-3 family): every byte is representable, so any prompt works."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[PAD, BOS, EOS, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([CORPUS] * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=ROLE_TOKENS,
        model_max_length=CONTEXT_LENGTH,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_hf_model(tokenizer: PreTrainedTokenizerFast, hf_dir: Path) -> None:
    """A random-weight LlamaForCausalLM in Hugging Face format, the builder's input."""
    torch.manual_seed(SEED)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=CONTEXT_LENGTH,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        # Larger than the usual 0.02 so the logits are peaked: greedy decoding then picks the
        # same token in a batch of one and a batch of many despite float rounding.
        initializer_range=0.3,
    )
    model = LlamaForCausalLM(config)
    model.eval()
    with torch.no_grad():
        # EOS gets logit 0 while the ~500 others spread around it: greedy decoding never ends
        # a turn early, so max_tokens always decides, and sampling reaches EOS only rarely.
        model.lm_head.weight[tokenizer.eos_token_id].zero_()
    model.save_pretrained(hf_dir, safe_serialization=True)
    tokenizer.save_pretrained(hf_dir)


def run_builder(hf_dir: Path, out_dir: Path, cache_dir: Path) -> None:
    """onnxruntime-genai's model builder: fp32 for the CPU execution provider."""
    command = [
        sys.executable,
        "-m",
        "onnxruntime_genai.models.builder",
        "-i",
        str(hf_dir),
        "-o",
        str(out_dir),
        "-p",
        "fp32",
        "-e",
        "cpu",
        "-c",
        str(cache_dir),
    ]
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run(command, check=True, env=offline)


def move_chat_template(out_dir: Path) -> None:
    """Keep the chat template in tokenizer_config.json, where every GenAI version looks for it.

    transformers 5 writes it to chat_template.jinja instead; one copy is enough.
    """
    template_file = out_dir / "chat_template.jinja"
    path = out_dir / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["chat_template"] = CHAT_TEMPLATE
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    for key in ("backend", "is_local", "local_files_only"):
        config.pop(key, None)
    path.write_text(json.dumps(config, indent=2) + "\n")
    template_file.unlink(missing_ok=True)


def tune_genai_config(out_dir: Path) -> None:
    """Search defaults for the server (greedy unless a request samples, the full context), one thread."""
    path = out_dir / "genai_config.json"
    config = json.loads(path.read_text())
    search = config["search"]
    search["max_length"] = CONTEXT_LENGTH
    search["do_sample"] = False
    search["top_k"] = 50
    search["top_p"] = 1.0
    search["temperature"] = 1.0
    # One thread per step: a model this small gains nothing from more, and ONNX Runtime's
    # spinning pool threads would take CPU from the HTTP server and the client beside it.
    config["model"]["decoder"]["session_options"]["intra_op_num_threads"] = 1
    path.write_text(json.dumps(config, indent=4) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (replaced)")
    args = parser.parse_args()
    out_dir: Path = args.out

    with tempfile.TemporaryDirectory(prefix="tiny-genai-") as scratch:
        hf_dir = Path(scratch) / "hf"
        build_dir = Path(scratch) / "onnx"
        save_hf_model(train_tokenizer(), hf_dir)
        run_builder(hf_dir, build_dir, Path(scratch) / "cache")
        tune_genai_config(build_dir)
        move_chat_template(build_dir)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        shutil.copytree(build_dir, out_dir)

    total = sum(f.stat().st_size for f in out_dir.iterdir())
    for f in sorted(out_dir.iterdir()):
        print(f"{f.stat().st_size:>10}  {f.name}")
    print(f"{total:>10}  total bytes in {out_dir}")
    if total > 2 * 1024 * 1024:
        print("error: the fixture must stay under 2 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
