"""Masked forwards on benchmark-sized text models: harsanyi's CPU path and OpenCL path against onnxruntime, one run.

    /work/torchvenv/bin/python Tests/Tools/make_text_fixtures.py --bench [DIR]     # default /tmp/harsanyi-bench-text
    swift build -c release
    /work/torchvenv/bin/python Benchmarks/text_report.py [--models DIR] [--seconds 5] [--cli PATH] [--n 10,12]
        [--only bert] [--backends cpu,opencl] [--opencl-batch 128] [--timeout 1800]

Models: the `--bench` exports of make_text_fixtures.py (random initialisation, no training; legacy exporter opset 17,
batch and sequence dynamic): BERT encoder (hidden 256, 4 layers, 4 heads, intermediate 1024, 2 classes) at sequence
lengths 32 and 128, GPT-2 decoder (hidden 256, 4 layers, 4 heads; logits [B, L, V]) at length 32. Attention masks
of ones (BERT: token_type_ids zeros). Players: the first n of the sample's 12 single-token words (words_len<L>.json,
positions spread over the sentence, never [CLS]/[SEP]/BOS); an absent word's token gets the [MASK] row of the
word-embedding matrix (baseline token:4), i.e. text models are masked at the word-embedding output.

onnxruntime: CPUExecutionProvider, default graph optimisations and threads, on embeds17.onnx (input inputs_embeds)
with the 2^n masked inputs_embeds batch built with numpy beforehand (not timed): word_embeddings[ids], absent
words' rows replaced by word_embeddings[4]; attention mask (and token_type_ids) repeated. Batches 32, 128 and 512;
each timing runs batches cycling through the 2^n inputs for at least --seconds; median of 3; the best batch is the
reference. onnxruntime computes the full output (GPT-2: logits at every position), as the exported model does.
harsanyi: `bench forward --seconds S --json` on legacy17.onnx (median of 3 reported by the CLI, set-up timed apart),
CPU path (its own batch choice) and OpenCL (the device path extract uses, at --batch --opencl-batch, default 128:
the CLI drains the OpenCL queue every 8 batches, so one measurement is at least 8 x batch samples whatever --seconds
says, and at its default batch min(8192, 2^n) that is minutes to hours per call on a CPU OpenCL device such as PoCL,
where batch 1024 also ran slower than 64-256 on BERT len 32; 0 leaves the CLI's default), with
`--players words:FILE --baseline token:4`; the linearity shortcut column says n/a where it does not apply (it
does not for attention models). A CLI call that fails or exceeds --timeout shows as such in its cell.

Prints Markdown: masked sequences/s and the ratio to onnxruntime's best batch (timed before the CLI calls), then
onnxruntime at that batch timed again after them ("onnxruntime after", ratio to before: a drift check, since a
shared machine's throughput can change over the minutes a row takes), the CLI's set-up times (plan compilation
and first batch) and each CLI call's wall time (it also times the shortcut pass when that does not apply, and a
measurement is at least one step whatever --seconds says: 4 x cores batches on the CPU path, 8 on OpenCL). Progress goes to stderr.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_BATCHES = [32, 128, 512]
CASES = [("bert", 32), ("bert", 128), ("gpt2", 32)]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def masked_embeds(weight, ids, words, mask_id):
    """[2^n, L, H] float32: subset s (bit k set = word k present) with absent words' rows set to weight[mask_id]."""
    n = len(words)
    present = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    base = weight[ids[0]].astype(np.float32)
    batch = np.repeat(base[None], 2**n, axis=0)
    for k, positions in enumerate(words):
        absent = np.nonzero(~present[:, k])[0]
        batch[np.ix_(absent, positions)] = weight[mask_id]
    return batch


def ort_rate(path, feeds_full, seconds, batches=ORT_BATCHES):
    """Best (median samples/s, batch) over batches; feeds_full: name -> array with the 2^n masked samples."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    total = next(iter(feeds_full.values())).shape[0]
    best = (0.0, 0)
    for size in batches:
        size = min(size, total)
        sess.run(None, {k: v[:size] for k, v in feeds_full.items()})  # warm-up
        rates = []
        for _ in range(3):
            done, start, t0 = 0, 0, time.perf_counter()
            while True:
                sess.run(None, {k: v[start:start + size] for k, v in feeds_full.items()})
                done += size
                start = (start + size) % total
                if time.perf_counter() - t0 >= seconds:
                    break
            rates.append(done / (time.perf_counter() - t0))
        log(f"    onnxruntime batch {size}: {np.median(rates):,.1f}/s")
        best = max(best, (float(np.median(rates)), size))
    return best


def harsanyi(cli, model, inputs, players, baseline, backend, seconds, batch, timeout):
    cmd = [cli, "bench", "forward", "--model", model]
    for item in inputs:
        cmd += ["--input", item]
    cmd += ["--players", players, "--baseline", baseline, "--backend", backend, "--seconds", str(seconds), "--json"]
    if batch:
        cmd += ["--batch", str(batch)]
    log("    " + " ".join(cmd))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    wall_s = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": f"exit {proc.returncode}: {lines[-1][:160] if lines else ''}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall_s
    return result


def cell(rate, ref):
    return f"{rate:,.1f} ({rate / ref:.2f}x)" if isinstance(rate, float) else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="/tmp/harsanyi-bench-text")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "harsanyi"))
    ap.add_argument("--n", default="10,12", help="comma-separated player counts (at most 12)")
    ap.add_argument("--only", default="", help="run only cases whose 'model/length' contains this")
    ap.add_argument("--backends", default="cpu,opencl")
    ap.add_argument("--opencl-batch", type=int, default=128,
                    help="--batch for the OpenCL runs (0: the CLI's default, min(8192, 2^n))")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per CLI call")
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    backends = [b for b in args.backends.split(",") if b]
    scratch = tempfile.mkdtemp(prefix="harsanyi-text-report-")

    head = ["model", "seq len", "n", "onnxruntime (best batch)"]
    for b in backends:
        head += [f"{b} plain", f"{b} + shortcut"]
    head += ["onnxruntime after", f"set-up {' / '.join(backends)} (s)", f"CLI wall {' / '.join(backends)} (s)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head), flush=True)
    for family, length in CASES:
        if args.only and args.only not in f"{family}/{length}":
            continue
        folder = os.path.join(args.models, family)
        legacy, embeds = os.path.join(folder, "legacy17.onnx"), os.path.join(folder, "embeds17.onnx")
        if not os.path.exists(legacy):
            log(f"skipping {family}: {legacy} missing (make_text_fixtures.py --bench)")
            continue
        ids = np.load(os.path.join(folder, f"input_ids_len{length}.npy"))
        mask = np.load(os.path.join(folder, f"attention_mask_len{length}.npy"))
        tt_file = os.path.join(folder, f"token_type_ids_len{length}.npy")
        tt = np.load(tt_file) if os.path.exists(tt_file) else None
        weight = np.load(os.path.join(folder, "word_embeddings.npy"))
        with open(os.path.join(folder, "baseline_token.txt")) as f:
            mask_id = int(f.read().strip())
        with open(os.path.join(folder, f"words_len{length}.json")) as f:
            words = json.load(f)
        for n in ns:
            assert n <= len(words["words"]), (n, len(words["words"]))
            log(f"{family} len {length} n {n}")
            words_file = os.path.join(scratch, f"{family}_len{length}_n{n}.json")
            with open(words_file, "w") as f:
                json.dump({"words": words["words"][:n], "labels": words["labels"][:n]}, f)
            feeds = {"inputs_embeds": masked_embeds(weight, ids, words["words"][:n], mask_id),
                     "attention_mask": np.repeat(mask, 2**n, axis=0)}
            if tt is not None:
                feeds["token_type_ids"] = np.repeat(tt, 2**n, axis=0)
            ref, size = ort_rate(embeds, feeds, args.seconds)
            inputs = [f"input_ids={os.path.join(folder, f'input_ids_len{length}.npy')}",
                      f"attention_mask={os.path.join(folder, f'attention_mask_len{length}.npy')}"]
            if tt is not None:
                inputs.append(f"token_type_ids={tt_file}")
            cells, setup, walls = [], [], []
            for backend in backends:
                r = harsanyi(args.cli, legacy, inputs, f"words:{words_file}", f"token:{mask_id}", backend,
                             args.seconds, args.opencl_batch if backend == "opencl" else 0, args.timeout)
                if "error" in r:
                    log(f"    {backend}: {r['error']}")
                    cells += [f"failed: {r['error']}", "-"]
                    setup.append("-")
                    walls.append("-")
                    continue
                log(f"    {backend}: {json.dumps(r, sort_keys=True)}")
                cells.append(cell(r["plain_samples_per_s"], ref) + f" [b {r.get('plain_batch', '?')}]")
                cells.append(cell(r.get("shortcut_samples_per_s"), ref))
                setup.append(f"{r['plain_setup_s']:.2f}")
                walls.append(f"{r['wall_s']:.0f}")
            after, _ = ort_rate(embeds, feeds, args.seconds, [size])
            del feeds
            row = ([family, str(length), str(n), f"{ref:,.1f} ({size})"] + cells
                   + [f"{after:,.1f} ({after / ref:.2f}x)", " / ".join(setup), " / ".join(walls)])
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
