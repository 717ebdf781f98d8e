"""Writes tiny Hugging Face language-model ONNX fixtures (text players = words) under Tests/Fixtures/text/.

What it makes
-------------
vocab.txt: a WordPiece vocabulary ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then whole words, then
"##" pieces so that e.g. "unhappy" -> un ##happy, "terrible" -> terr ##ible, "wonderful" -> wonder ##ful).
It is shared by six tiny models (hidden 32, 2 layers, 2 heads, intermediate 64, attn_implementation=
"eager", torch.manual_seed(i) before building family i in the order below, init std 0.1), one folder each:

    encoders (sequence classification, 2 classes, max positions 512; RoBERTa 514 because its positions
    start at pad_token_id + 1): bert (with token_type_ids), distilbert, roberta
    decoders (causal LM, logits [B, L, V], max positions 128, BOS = [CLS] at position 0, no [SEP]):
    gpt2, llama (RMSNorm, rotary, 1 KV head), opt

The encoders are trained (Adam 1e-3, batch 64, 1500 steps, ~20 s each; train accuracy ~0.99, held-out
~0.92-0.95) on a seeded sentiment task of 6-14 word reviews whose label needs word interactions ("not
good" is negative, "not bad" positive); the decoders get 300 next-token steps on the same sentences.
Per folder <family>/:

    legacy17.onnx        torch.onnx.export(dynamo=False, opset_version=17), inputs input_ids,
                         attention_mask (+ token_type_ids for bert), int64, axes "batch"/"sequence"
                         dynamic on every input and on the output "logits"; weights inside the file
    dynamo18.onnx(.data) torch.onnx.export(dynamo=True, opset_version=18), torch's default external data,
                         dynamic batch and sequence (fallbacks and failures go to notes.txt)
    embeds17.onnx        like legacy17 but with input inputs_embeds (float [B, L, 32]) instead of input_ids
    input_ids.npy, attention_mask.npy (, token_type_ids.npy)   int64 [1, 13]: the sample
    input_ids_padded.npy, attention_mask_padded.npy (, token_type_ids_padded.npy)   encoders: the sample
                         plus 3 trailing [PAD] with attention_mask 0
    words.json           {"words": [[token positions of word k], ...], "labels": [word k, ...]}: the
                         players, every word of the sample in order (never [CLS]/[SEP]/BOS)
    baseline_token.txt   the [MASK] token id (4)
    ref/<key>.npy        one .npy per reference array: plain_logits (onnxruntime on legacy17, full output:
                         encoders [1, 2], decoders [1, L, V]), plain_logits_padded (encoders), subsets
                         (int64 [18]: 0, 2^n - 1, then 16 distinct masks from 1..2^n - 2 drawn by
                         np.random.default_rng(i) (i = family index), ascending; bit k set = word k
                         of words.json present), masked_logits (onnxruntime on embeds17) and
                         masked_logits_torch (float32 [18, 2] / decoders [18, V] = last position): the
                         output when every token of an absent word has its word embedding replaced by
                         the [MASK] row, attention_mask unchanged; target (int64: argmax class /
                         argmax next token at the last position); embedding_output_legacy17 and
                         embedding_output_dynamo18 (in ref/embedding_output.json: the output of the
                         Gather reading the word-embedding initializer); bert also plain_logits_len128 / plain_logits_len512
    bert/input_ids_len128.npy, input_ids_len512.npy (+ attention_mask_*, token_type_ids_*)
    notes.txt            only where something needed a note (exporter fallbacks, inputs_embeds caveats)

ops.txt lists the opset and op types (with counts) of every exported model.
onnxruntime runs with CPUExecutionProvider, one thread and ORT_DISABLE_ALL; its outputs are checked
against torch (max|a - b| / max|b| < 1e-5 for the masked outputs, < 1e-4 for the rest).

Versions it was run with: torch 2.13.0+cpu (/opt/wheels; PyPI's default is a CUDA build),
transformers 5.24.0, tokenizers 0.23.3, onnx 1.23.2, onnxruntime 1.32.0, onnxscript 0.7.2, numpy 2.4.6,
Python 3.11. Nothing is downloaded. How to run (deterministic, overwrites its outputs):

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl transformers onnx==1.23.2 \\
        onnxruntime==1.32.0 onnxscript numpy
    /work/torchvenv/bin/python Tests/Tools/make_text_fixtures.py

Benchmark models (--bench [DIR], default /tmp/harsanyi-bench-text; nothing under Tests/Fixtures is touched)
-------------------------------------------------------------------------------------------------------
    /work/torchvenv/bin/python Tests/Tools/make_text_fixtures.py --bench [DIR]     # ~1 min on one core

Random initialisation (torch.manual_seed per family, transformers' default init; no training), eager
attention, the same vocabulary (DIR/vocab.txt) and special ids as the fixtures. Per folder DIR/<family>/:

    bert   BertForSequenceClassification, hidden 256, 4 layers, 4 heads, intermediate 1024, 2 classes,
           max positions 512; samples of length 32 and 128 (with token_type_ids, zeros)
    gpt2   GPT2LMHeadModel, hidden 256, 4 layers, 4 heads (inner 1024), max positions 512, logits
           [B, L, V]; a sample of length 32 (BOS = [CLS] at position 0, no [SEP])

    legacy17.onnx, embeds17.onnx   as above (legacy exporter, opset 17, batch and sequence dynamic)
    input_ids_len<L>.npy, attention_mask_len<L>.npy (ones) (, token_type_ids_len<L>.npy)   int64 [1, L]:
           seeded random whole-word ids (no special, stem or ## ids) between [CLS] and [SEP] / after BOS
    words_len<L>.json   12 single-token words (players) at positions spread evenly over the sentence,
           never [CLS]/[SEP]/BOS; a benchmark over n < 12 players takes the first n
    word_embeddings.npy   float32 [V, 256]: the word-embedding matrix, to build the masked inputs_embeds
           batch for embeds17.onnx (absent word -> row [MASK] = 4)
    baseline_token.txt    4
Checked: legacy17 and embeds17 (given word_embeddings[ids]) agree with torch within 1e-4 on each sample.
Benchmarks/text_report.py times them.

Learned-baseline references (--baseline-reference; writes only Tests/Fixtures/text/bert/ref/baseline_*.npy)
-----------------------------------------------------------------------------------------------------------
    nice /work/torchvenv/bin/python Tests/Tools/make_text_fixtures.py --baseline-reference   # ~30 s, one core

Rebuilds and retrains the bert fixture model exactly as the default mode (seed 0, 1500 steps; vocab.txt is
rebuilt in a temporary folder, no default output is written) and asserts that its logits on the committed
sample (bert/input_ids.npy, attention_mask.npy, token_type_ids.npy) equal bert/ref/plain_logits.npy within
1e-5. Players: the 9 words of bert/words.json (bit k = word k); y = argmax of the unmasked logits. For a bit
mask `kept`, v(kept) = z_y - logsumexp_{c != y} z_c with z = model(inputs_embeds=E, attention_mask,
token_type_ids).logits, E = get_input_embeddings()(ids) with every token position of each word not in `kept`
set to the baseline b (one vector [32], [CLS]/[SEP] never replaced). Draws: 10, each from
np.random.default_rng(2024) as r = rng.integers(0, 4, size=9), word k to S1, S2, S3 or none for r[k] = 0, 1,
2, 3 (as BaselineLearner.draws). L(b) = (1/10) sum_d |v(S1|S2|S3) - v(S1|S3) - v(S2|S3) + v(S3)|, evaluated
with the model converted to float64 (.double()), gradient by autograd. Files (float64 unless noted):

    baseline_draws.npy    int64 [10, 3]: s1, s2, s3 bit masks per draw
    baseline_points.npy   [2, 32]: b0 = word-embedding row 4 ([MASK]), b1 = b0 + 0.05 * default_rng(7)
                          .standard_normal(32)
    baseline_loss.npy     [2]: L(b0), L(b1)
    baseline_grad.npy     [2, 32]: dL/db at b0, b1
    baseline_sgd.npy      [2, 32]: b after one and two steps of torch.optim.SGD(lr=1e-3, momentum=0.9) from b0
                          (zero momentum buffer; step 2 uses the gradient at the step-1 point, same draws)

It also prints the float32-vs-float64 differences of L and dL/db and the relative error of the float32
central-difference gradient (h = 1e-2, what the Swift side runs) against autograd, to size test tolerances.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers as tf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "Tests", "Fixtures", "text")
PAD, UNK, CLS, SEP, MASK = range(5)
SAMPLE_ENCODER = "the film was not terrible and actors were wonderful"      # 11 tokens + [CLS] [SEP]
SAMPLE_DECODER = "the film was not terrible and the actors were wonderful"  # BOS + 12 tokens

FILLER = ("the a this that movie film story plot actors cast music ending acting scenes director script "
          "characters dialogue camera show book night time people friends it i we they was is were "
          "seemed felt looked found think and with really quite so of in at on to for overall whole "
          "first last new old long every some also just still then there here its their my our today "
          "again together year series episode song songs performance role roles house city family "
          "man woman children world life way thing things part end start kind lot bit as by from "
          "he she you me what when who").split()
POSITIVE = "good great nice fine happy excellent lovely brilliant charming wonderful delightful enjoyable amazing".split()
NEGATIVE = "bad awful poor sad dull weak boring terrible horrible unhappy unpleasant painful dreadful".split()
NEGATORS = ["not", "never"]
STEMS = "un wonder delight enjoy amaz bor terr horr pain dread".split()   # whole-word prefixes
PIECES = "##happy ##pleasant ##ful ##able ##ing ##ible ##s ##ly ##ed".split()
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_vocab(out=OUT):
    multi = {"wonderful", "delightful", "enjoyable", "amazing", "boring", "terrible", "horrible",
             "unhappy", "unpleasant", "painful", "dreadful"}
    whole = [w for w in FILLER + POSITIVE + NEGATIVE + NEGATORS + ["very"] if w not in multi]
    tokens = SPECIAL + list(dict.fromkeys(whole + STEMS)) + PIECES
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(tokens) + "\n")
    path = os.path.join(out, "vocab.txt")
    tok = tf.BertTokenizerFast(vocab_file=path, do_lower_case=True)  # transformers 4.x
    if len(tok) != len(tokens):  # transformers 5 ignores vocab_file= and takes vocab=
        tok = tf.BertTokenizerFast(vocab=path, do_lower_case=True)
    assert len(tok) == len(tokens) and tok.convert_tokens_to_ids("[MASK]") == MASK
    for w in multi:
        assert len(tok.tokenize(w)) == 2, (w, tok.tokenize(w))
    return tok, len(tokens)


def sentence(rng):
    """One review: 1-2 clauses whose effective polarity is the label (negation flips an adjective)."""
    label = int(rng.integers(2))
    clauses = []
    for _ in range(1 + int(rng.random() < 0.35)):
        negated = rng.random() < 0.5
        pool = POSITIVE if (label == 1) != negated else NEGATIVE
        clause = [str(rng.choice(pool))]
        if negated:
            clause.insert(0, str(rng.choice(NEGATORS)))
        elif rng.random() < 0.3:
            clause.insert(0, "very")
        clauses.append(clause)
    length = int(rng.integers(6, 15))
    n_fill = max(0, length - sum(map(len, clauses)))
    words = [str(w) for w in rng.choice(FILLER, n_fill)]
    for clause in clauses:
        at = int(rng.integers(len(words) + 1))
        words[at:at] = clause
    return " ".join(words), label


def encode(tok, texts, kind):
    rows = [tok.convert_tokens_to_ids(tok.tokenize(t)) for t in texts]
    rows = [[CLS] + r + [SEP] if kind == "encoder" else [CLS] + r for r in rows]
    width = max(map(len, rows))
    ids = torch.tensor([r + [PAD] * (width - len(r)) for r in rows])
    return ids, (ids != PAD).long()


def config_for(family, vocab):
    common = dict(vocab_size=vocab, pad_token_id=PAD, bos_token_id=CLS, eos_token_id=SEP)
    enc = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
               num_labels=2, **common)
    if family == "bert":
        return tf.BertConfig(max_position_embeddings=512, **enc), tf.BertForSequenceClassification
    if family == "roberta":
        return (tf.RobertaConfig(max_position_embeddings=514, type_vocab_size=1, **enc),
                tf.RobertaForSequenceClassification)
    if family == "distilbert":
        return (tf.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=512,
                                    num_labels=2, vocab_size=vocab, pad_token_id=PAD),
                tf.DistilBertForSequenceClassification)
    if family == "gpt2":
        return (tf.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_inner=64, n_positions=128, **common),
                tf.GPT2LMHeadModel)
    if family == "llama":
        return (tf.LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                               intermediate_size=64, max_position_embeddings=128, **common),
                tf.LlamaForCausalLM)
    if family == "opt":
        return (tf.OPTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=64,
                             word_embed_proj_dim=32, max_position_embeddings=128, **common),
                tf.OPTForCausalLM)
    raise KeyError(family)


def build(family, vocab, seed):
    config, cls = config_for(family, vocab)
    config._attn_implementation = "eager"
    config.use_cache = False
    for key in ("initializer_range", "init_std"):  # at 0.02 the tiny encoders do not learn the task
        if hasattr(config, key):
            setattr(config, key, 0.1)
    torch.manual_seed(seed)
    model = cls(config)
    assert model.config._attn_implementation == "eager"
    return model


def train(model, kind, tok, steps):
    rng = np.random.default_rng(1)
    data = [sentence(rng) for _ in range(2048)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for step in range(steps):
        batch = [data[i] for i in rng.integers(len(data), size=64)]
        ids, mask = encode(tok, [t for t, _ in batch], kind)
        if kind == "encoder":
            loss = model(input_ids=ids, attention_mask=mask, labels=torch.tensor([y for _, y in batch])).loss
        else:
            loss = model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    if kind == "decoder":
        return f"next-token loss after {steps} steps: {loss.item():.3f}"
    accuracy = []
    held_rng = np.random.default_rng(2)
    for part in (data, [sentence(held_rng) for _ in range(512)]):
        ids, mask = encode(tok, [t for t, _ in part], kind)
        with torch.no_grad():
            pred = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
        accuracy.append((pred == torch.tensor([y for _, y in part])).float().mean().item())
    return f"accuracy after {steps} steps: train {accuracy[0]:.3f}, held-out {accuracy[1]:.3f}"


class Wrapper(torch.nn.Module):
    """Positional inputs -> logits, for the exporters (embeds=True: inputs_embeds instead of input_ids)."""

    def __init__(self, model, embeds=False):
        super().__init__()
        self.model, self.key = model, "inputs_embeds" if embeds else "input_ids"
        self.eval()  # the legacy exporter restores the wrapper's mode afterwards, recursively

    def forward(self, x, attention_mask, token_type_ids=None):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(**{self.key: x}, attention_mask=attention_mask, **extra).logits


def io_names(family, kind, embeds=False):
    names = ["inputs_embeds" if embeds else "input_ids", "attention_mask"]
    return names + (["token_type_ids"] if family == "bert" else [])


def export_legacy(module, args, names, kind, path):
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch", 1: "sequence"} if kind == "decoder" else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path, dynamo=False, opset_version=17, input_names=names,
                          output_names=["logits"], dynamic_axes=axes, do_constant_folding=True)


def export_dynamo(module, args, names, max_len, path, notes):
    batch, seq = torch.export.Dim("batch", min=1, max=1024), torch.export.Dim("sequence", min=2, max=max_len)
    for label, dims in (("batch and sequence", {0: batch, 1: seq}), ("batch only", {0: batch}), ("static", None)):
        for stale in (path, path + ".data"):
            if os.path.exists(stale):
                os.remove(stale)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, args, path, dynamo=True, opset_version=18, input_names=names,
                                  output_names=["logits"], verbose=False,
                                  dynamic_shapes=None if dims is None else tuple(dims for _ in args))
            if label != "batch and sequence":
                notes.append(f"dynamo18.onnx: dynamic shapes fell back to {label}")
            return True
        except Exception as error:  # noqa: BLE001 - the exporter raises many kinds
            notes.append(f"dynamo18.onnx export with dynamic {label} failed: {type(error).__name__}: "
                         + str(error).strip().splitlines()[0][:400])
    return False


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_ort(path, names, arrays):
    return session(path).run(["logits"], {n: np.asarray(a) for n, a in zip(names, arrays)})[0]


def rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / max(np.abs(np.asarray(b)).max(), 1e-12))


def embedding_output(path, weight):
    """Output name of the Gather whose data input is the initializer equal to the word-embedding matrix."""
    model = onnx.load(path)
    inits = {t.name for t in model.graph.initializer
             if tuple(t.dims) == tuple(weight.shape) and np.array_equal(onnx.numpy_helper.to_array(t), weight)}
    found = [n.output[0] for n in model.graph.node if n.op_type == "Gather" and n.input[0] in inits]
    assert len(found) == 1, (path, found)
    return found[0]


def op_listing(path):
    model = onnx.load(path, load_external_data=False)
    counts = collections.Counter()

    def walk(graph):
        for node in graph.node:
            counts[(node.domain + "." if node.domain not in ("", "ai.onnx") else "") + node.op_type] += 1
            for attr in node.attribute:
                for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                    walk(g)

    walk(model.graph)
    for fn in model.functions:
        walk(fn)
    opset = next(i.version for i in model.opset_import if i.domain in ("", "ai.onnx"))
    ops = ", ".join(f"{op} x{c}" for op, c in sorted(counts.items()))
    extra = f" ({len(model.functions)} local functions)" if model.functions else ""
    return f"opset {opset}, {sum(counts.values())} nodes{extra}: {ops}"


def subsets_for(n, seed):
    full = (1 << n) - 1
    rng = np.random.default_rng(seed)
    chosen = rng.choice(np.arange(1, full), size=16, replace=False)
    return np.array([0, full] + sorted(int(c) for c in chosen), dtype=np.int64)


def players(tok, text, offset):
    words, labels, pos = [], [], offset
    for w in text.split():
        k = len(tok.tokenize(w))
        words.append(list(range(pos, pos + k)))
        labels.append(w)
        pos += k
    assert len(words) <= 10 and sum(len(p) > 1 for p in words) >= 2
    return {"words": words, "labels": labels}


def long_ids(tok, length, seed):
    rng = np.random.default_rng(seed)
    ids = []
    while len(ids) < length - 2:
        ids += tok.convert_tokens_to_ids(tok.tokenize(sentence(rng)[0]))
    return np.array([[CLS] + ids[:length - 2] + [SEP]], dtype=np.int64)


def do_family(family, kind, seed, tok, vocab, ops_lines):
    folder = os.path.join(OUT, family)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    notes = []
    model = build(family, vocab, seed)
    print(f"{family}: {sum(p.numel() for p in model.parameters())} parameters; "
          + train(model, kind, tok, 1500 if kind == "encoder" else 300))
    use_tt = family == "bert"
    save = lambda name, a: np.save(os.path.join(folder, name + ".npy"), a)  # noqa: E731
    text = SAMPLE_ENCODER if kind == "encoder" else SAMPLE_DECODER
    ids, mask = (t.numpy() for t in encode(tok, [text], kind))
    assert ids.shape[1] == 13
    samples = {"": (ids, mask)}
    if kind == "encoder":
        samples["_padded"] = (np.pad(ids, ((0, 0), (0, 3))), np.pad(mask, ((0, 0), (0, 3))))
    if family == "bert":
        for n in (128, 512):
            long = long_ids(tok, n, n)
            samples[f"_len{n}"] = (long, np.ones_like(long))
    words = players(tok, text, 1)
    with open(os.path.join(folder, "words.json"), "w") as f:
        json.dump(words, f)
    with open(os.path.join(folder, "baseline_token.txt"), "w") as f:
        f.write(f"{MASK}\n")

    def inputs(i, m, x=None):
        base = [torch.from_numpy(i) if x is None else x, torch.from_numpy(m)]
        return tuple(base + ([torch.zeros_like(base[1])] if use_tt else []))

    example = inputs(np.repeat(ids, 2, 0), np.repeat(mask, 2, 0))
    names = io_names(family, kind)
    legacy = os.path.join(folder, "legacy17.onnx")
    export_legacy(Wrapper(model), example, names, kind, legacy)
    dynamo = os.path.join(folder, "dynamo18.onnx")
    have_dynamo = export_dynamo(Wrapper(model), example, names, 512 if kind == "encoder" else 128, dynamo, notes)
    emb = model.get_input_embeddings()
    weight = emb.weight.detach().numpy()
    ref = {}
    for suffix, (i, m) in samples.items():
        save("input_ids" + suffix, i)
        save("attention_mask" + suffix, m)
        if use_tt:
            save("token_type_ids" + suffix, np.zeros_like(i))
        with torch.no_grad():
            expect = Wrapper(model)(*inputs(i, m)).numpy()
        got = run_ort(legacy, names, [a.numpy() for a in inputs(i, m)])
        assert rel(got, expect) < 1e-4, (family, suffix, rel(got, expect))
        ref["plain_logits" + suffix] = got.astype(np.float32)
        if have_dynamo:
            r = rel(run_ort(dynamo, names, [a.numpy() for a in inputs(i, m)]), expect)
            if r >= 1e-4:
                notes.append(f"dynamo18.onnx differs from torch on sample{suffix or ' (plain)'}: rel {r:.2e}")
    batch2 = samples.get("_padded", samples[""])
    b2 = inputs(np.concatenate([np.pad(ids, ((0, 0), (0, batch2[0].shape[1] - 13))), batch2[0]]),
                np.concatenate([np.pad(mask, ((0, 0), (0, batch2[0].shape[1] - 13))), batch2[1]]))
    with torch.no_grad():
        assert rel(run_ort(legacy, names, [a.numpy() for a in b2]), Wrapper(model)(*b2).numpy()) < 1e-4

    # masked outputs: word embeddings of absent words' tokens replaced by the [MASK] row
    with torch.no_grad():
        direct = Wrapper(model)(*inputs(ids, mask))
        via = Wrapper(model, embeds=True)(*inputs(ids, mask, emb(torch.from_numpy(ids))))
        gap = (direct - via).abs().max().item()
    if gap > 1e-6:
        notes.append(f"inputs_embeds=get_input_embeddings()(ids) differs from input_ids: max abs {gap:.2e}")
    if family == "roberta":
        notes.append("roberta: with inputs_embeds, position ids are 1..L (sequential) even where there is "
                     "padding; with input_ids, [PAD] tokens get position 0 (padding_idx) and the rest count "
                     "from 1 - identical for unpadded inputs, so the masked references are exact")
    subsets = subsets_for(len(words["words"]), seed)
    base = emb(torch.from_numpy(ids))
    rows = []
    for s in subsets:
        e = base.clone()
        for k, positions in enumerate(words["words"]):
            if not (int(s) >> k) & 1:
                e[0, positions] = emb.weight[MASK]
        rows.append(e)
    embeds = torch.cat(rows).detach()
    many = inputs(np.repeat(ids, len(subsets), 0), np.repeat(mask, len(subsets), 0), embeds)
    embeds_path = os.path.join(folder, "embeds17.onnx")
    export_legacy(Wrapper(model, embeds=True), inputs(ids, mask, base.detach()), io_names(family, kind, True),
                  kind, embeds_path)
    with torch.no_grad():
        masked_torch = Wrapper(model, embeds=True)(*many).numpy()
    masked_ort = run_ort(embeds_path, io_names(family, kind, True), [a.numpy() for a in many])
    if kind == "decoder":
        masked_torch, masked_ort = masked_torch[:, -1], masked_ort[:, -1]
    assert rel(masked_ort, masked_torch) < 1e-5, (family, rel(masked_ort, masked_torch))
    full = ref["plain_logits"][:, -1] if kind == "decoder" else ref["plain_logits"]
    assert rel(masked_torch[1:2], full) < 1e-4
    ref.update(subsets=subsets, masked_logits=masked_ort.astype(np.float32),
               masked_logits_torch=masked_torch.astype(np.float32),
               target=np.int64(full[0].argmax()),
               embedding_output_legacy17=np.str_(embedding_output(legacy, weight)),
               embedding_output_dynamo18=np.str_(embedding_output(dynamo, weight) if have_dynamo else ""))
    write_reference(folder, ref)
    if notes:
        with open(os.path.join(folder, "notes.txt"), "w") as f:
            f.write("\n".join(notes) + "\n")
    for name in ("legacy17.onnx", "dynamo18.onnx", "embeds17.onnx"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            line = f"{family}/{name}: {op_listing(path)}"
            ops_lines.append(line)
            print("  " + line)
    print(f"  embedding output: legacy17 {ref['embedding_output_legacy17']!r}, "
          f"dynamo18 {ref['embedding_output_dynamo18']!r}; target {int(ref['target'])}; "
          f"masked rel ort/torch {rel(masked_ort, masked_torch):.1e}; inputs_embeds vs input_ids max abs {gap:.1e}" + "".join(f"\n  note: {n}" for n in notes))


def write_reference(folder, ref):
    """ref/<key>.npy per array (the Swift tests read .npy only) and ref/embedding_output.json for the names."""
    out = os.path.join(folder, "ref")
    os.makedirs(out, exist_ok=True)
    names = {}
    for key, value in ref.items():
        value = np.asarray(value)
        if value.dtype.kind == "U":
            names[key.replace("embedding_output_", "")] = str(value)
        else:
            np.save(os.path.join(out, key + ".npy"), value)
    with open(os.path.join(out, "embedding_output.json"), "w") as f:
        json.dump(names, f, indent=1, sort_keys=True)


BENCH_WORDS = 12


def bench_family(family, kind, seed, tok, vocab, out, lengths):
    """Benchmark-sized random model: legacy17/embeds17 exports, samples, 12 single-token words per sample."""
    folder = os.path.join(out, family)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    common = dict(vocab_size=vocab, pad_token_id=PAD, bos_token_id=CLS, eos_token_id=SEP)
    if family == "bert":
        config, cls = (tf.BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                                     intermediate_size=1024, num_labels=2, max_position_embeddings=512, **common),
                       tf.BertForSequenceClassification)
    else:
        config, cls = (tf.GPT2Config(n_embd=256, n_layer=4, n_head=4, n_inner=1024, n_positions=512, **common),
                       tf.GPT2LMHeadModel)
    config._attn_implementation = "eager"
    config.use_cache = False
    torch.manual_seed(seed)
    model = cls(config).eval()
    assert model.config._attn_implementation == "eager"
    use_tt = family == "bert"
    specials = set(SPECIAL)
    whole = [i for i in range(vocab) if tok.convert_ids_to_tokens(i) not in specials
             and not tok.convert_ids_to_tokens(i).startswith("##") and tok.convert_ids_to_tokens(i) not in STEMS]
    weight = model.get_input_embeddings().weight.detach().numpy().astype(np.float32)
    np.save(os.path.join(folder, "word_embeddings.npy"), weight)
    with open(os.path.join(folder, "baseline_token.txt"), "w") as f:
        f.write(f"{MASK}\n")

    def inputs(x, m):
        base = [torch.from_numpy(x), torch.from_numpy(m)]
        return tuple(base + ([torch.zeros_like(base[1])] if use_tt else []))

    rng = np.random.default_rng(seed)
    samples = {}
    for length in lengths:
        body = length - 2 if kind == "encoder" else length - 1
        ids = [CLS] + [int(i) for i in rng.choice(whole, body)] + ([SEP] if kind == "encoder" else [])
        ids = np.array([ids], dtype=np.int64)
        last = length - 2 if kind == "encoder" else length - 1
        positions = sorted({int(round(p)) for p in np.linspace(1, last, BENCH_WORDS)})
        assert len(positions) == BENCH_WORDS and all(ids[0, p] not in (CLS, SEP, PAD, MASK) for p in positions)
        words = {"words": [[p] for p in positions], "labels": [tok.convert_ids_to_tokens(int(ids[0, p]))
                                                               for p in positions]}
        with open(os.path.join(folder, f"words_len{length}.json"), "w") as f:
            json.dump(words, f)
        mask = np.ones_like(ids)
        np.save(os.path.join(folder, f"input_ids_len{length}.npy"), ids)
        np.save(os.path.join(folder, f"attention_mask_len{length}.npy"), mask)
        if use_tt:
            np.save(os.path.join(folder, f"token_type_ids_len{length}.npy"), np.zeros_like(ids))
        samples[length] = (ids, mask)
    ids, mask = samples[lengths[0]]
    legacy, embeds = os.path.join(folder, "legacy17.onnx"), os.path.join(folder, "embeds17.onnx")
    export_legacy(Wrapper(model), inputs(np.repeat(ids, 2, 0), np.repeat(mask, 2, 0)), io_names(family, kind),
                  kind, legacy)
    export_legacy(Wrapper(model, embeds=True), inputs(np.repeat(weight[ids], 2, 0), np.repeat(mask, 2, 0)),
                  io_names(family, kind, True), kind, embeds)
    for length, (ids, mask) in samples.items():
        with torch.no_grad():
            expect = Wrapper(model)(*inputs(ids, mask)).numpy()
        got = run_ort(legacy, io_names(family, kind), [a.numpy() for a in inputs(ids, mask)])
        via = run_ort(embeds, io_names(family, kind, True), [a.numpy() for a in inputs(weight[ids], mask)])
        assert rel(got, expect) < 1e-4 and rel(via, expect) < 1e-4, (family, length, rel(got, expect),
                                                                     rel(via, expect))
        print(f"  {family} len {length}: legacy17 rel {rel(got, expect):.1e}, embeds17 rel {rel(via, expect):.1e}")
    print(f"{family}: {sum(p.numel() for p in model.parameters())} parameters; {op_listing(legacy)}")


def bench_main(out):
    torch.set_num_threads(1)
    tok, vocab = build_vocab(out)
    print(f"bench models under {out}; vocab {vocab} tokens")
    for seed, (family, kind, lengths) in enumerate([("bert", "encoder", [32, 128]), ("gpt2", "decoder", [32])]):
        bench_family(family, kind, 100 + seed, tok, vocab, out, lengths)


BASELINE_DRAWS, BASELINE_LR, BASELINE_MOMENTUM, BASELINE_FD_STEP = 10, 1e-3, 0.9, 1e-2


class BaselineLoss:
    """L(b) of the learned-baseline procedure on the bert sample (see the docstring), for one model precision."""

    def __init__(self, model, ids, mask, token_types, words, target, draws):
        self.model, self.target = model, target
        dtype = next(model.parameters()).dtype
        sets = [kept for s1, s2, s3 in draws for kept in (s1 | s2 | s3, s1 | s3, s2 | s3, s3)]
        replace = np.zeros((len(sets), ids.shape[1], 1), dtype=bool)
        for i, kept in enumerate(sets):
            for k, positions in enumerate(words):
                if not (kept >> k) & 1:
                    replace[i, positions] = True
        self.replace = torch.from_numpy(replace)
        with torch.no_grad():
            self.base = model.get_input_embeddings()(torch.from_numpy(ids)).to(dtype).repeat(len(sets), 1, 1)
        self.mask = torch.from_numpy(mask).repeat(len(sets), 1)
        self.token_types = torch.from_numpy(token_types).repeat(len(sets), 1)
        self.draws = len(draws)

    def __call__(self, b):
        embeds = torch.where(self.replace, b.to(self.base.dtype), self.base)
        z = self.model(inputs_embeds=embeds, attention_mask=self.mask, token_type_ids=self.token_types).logits
        z = z.double()  # the float32 model's logits are read in float64, as the Swift side does
        others = torch.cat([z[:, :self.target], z[:, self.target + 1:]], dim=1)
        v = (z[:, self.target] - torch.logsumexp(others, dim=1)).view(self.draws, 4)
        return (v[:, 0] - v[:, 1] - v[:, 2] + v[:, 3]).abs().mean()

    def loss_and_grad(self, point):
        b = torch.tensor(point, dtype=self.base.dtype, requires_grad=True)
        loss = self(b)
        loss.backward()
        return loss.item(), b.grad.double().numpy()

    def central_difference(self, point, h):
        b = torch.tensor(point, dtype=self.base.dtype)
        grad = np.zeros(len(point))
        with torch.no_grad():
            for j in range(len(point)):
                up, down = b.clone(), b.clone()
                up[j] += h
                down[j] -= h
                grad[j] = (self(up).item() - self(down).item()) / (2 * h)
        return grad


def baseline_reference_main():
    import copy
    import tempfile
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:  # the same vocabulary; the committed vocab.txt is not touched
        tok, vocab = build_vocab(tmp)
    model = build("bert", vocab, 0)  # bert is family 0 of the default mode
    print("bert: " + train(model, "encoder", tok, 1500))
    folder = os.path.join(OUT, "bert")
    load = lambda name: np.load(os.path.join(folder, name + ".npy"))  # noqa: E731
    ids, mask, token_types = load("input_ids"), load("attention_mask"), load("token_type_ids")
    with open(os.path.join(folder, "words.json")) as f:
        words = json.load(f)["words"]
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                       token_type_ids=torch.from_numpy(token_types)).logits.numpy()
    plain = load(os.path.join("ref", "plain_logits"))
    gap = float(np.abs(logits - plain).max())
    assert gap <= 1e-5, f"retrained bert differs from ref/plain_logits.npy: max abs {gap:.2e}"
    target = int(logits[0].argmax())
    print(f"retrained logits {logits[0]} vs ref/plain_logits max abs {gap:.1e}; target {target}; "
          f"{len(words)} words")

    rng = np.random.default_rng(2024)
    draws = []
    for _ in range(BASELINE_DRAWS):
        r = rng.integers(0, 4, size=len(words))
        draws.append([sum(1 << k for k in range(len(words)) if r[k] == s) for s in range(3)])
    draws = np.array(draws, dtype=np.int64)
    b0 = model.get_input_embeddings().weight[MASK].detach().double().numpy()
    b1 = b0 + 0.05 * np.random.default_rng(7).standard_normal(b0.shape[0])
    points = np.stack([b0, b1])

    model64 = copy.deepcopy(model).double().eval()
    loss64 = BaselineLoss(model64, ids, mask, token_types, words, target, draws.tolist())
    loss32 = BaselineLoss(model, ids, mask, token_types, words, target, draws.tolist())
    values, grads = zip(*(loss64.loss_and_grad(p) for p in points))
    losses, grads = np.array(values), np.stack(grads)

    b = torch.nn.Parameter(torch.tensor(b0, dtype=torch.float64))
    opt = torch.optim.SGD([b], lr=BASELINE_LR, momentum=BASELINE_MOMENTUM)
    steps = []
    for _ in range(2):
        opt.zero_grad()
        loss64(b).backward()
        opt.step()
        steps.append(b.detach().numpy().copy())
    sgd = np.stack(steps)
    assert np.allclose(sgd[0], b0 - BASELINE_LR * grads[0], rtol=0, atol=1e-15)

    out = os.path.join(folder, "ref")
    for name, value in (("baseline_draws", draws), ("baseline_points", points), ("baseline_loss", losses),
                        ("baseline_grad", grads), ("baseline_sgd", sgd)):
        np.save(os.path.join(out, name + ".npy"), value)
    norm = np.linalg.norm
    print("draws (s1, s2, s3):", draws.tolist())
    print(f"|b0| {norm(b0):.6f}, |b1| {norm(b1):.6f}, |b1 - b0| {norm(b1 - b0):.6f}")
    for i in range(2):
        print(f"b{i}: L {losses[i]:.10f}, |grad| {norm(grads[i]):.6e}")
    print(f"sgd: |step1 - b0| {norm(sgd[0] - b0):.6e}, |step2 - step1| {norm(sgd[1] - sgd[0]):.6e}, "
          f"|step1| {norm(sgd[0]):.6f}, |step2| {norm(sgd[1]):.6f}")
    for i, p in enumerate(points):
        l32, g32 = loss32.loss_and_grad(p.astype(np.float32))
        fd32 = loss32.central_difference(p.astype(np.float32), np.float32(BASELINE_FD_STEP))
        fd64 = loss64.central_difference(p, BASELINE_FD_STEP)
        print(f"b{i}: float32 vs float64 model: |dL| {abs(l32 - losses[i]):.2e} (rel {abs(l32 - losses[i]) / losses[i]:.2e}), "
              f"|dgrad| / |grad| {norm(g32 - grads[i]) / norm(grads[i]):.2e}; central differences h = "
              f"{BASELINE_FD_STEP:g} vs autograd (float64): float32 rel {norm(fd32 - grads[i]) / norm(grads[i]):.2e} "
              f"(max abs {np.abs(fd32 - grads[i]).max():.2e}), float64 rel {norm(fd64 - grads[i]) / norm(grads[i]):.2e}")
    print(f"wrote {out}/baseline_{{draws,points,loss,grad,sgd}}.npy")


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", nargs="?", const="/tmp/harsanyi-bench-text", default=None, metavar="DIR",
                    help="write benchmark-sized random models under DIR instead of the fixtures")
    ap.add_argument("--baseline-reference", action="store_true",
                    help="write the learned-baseline references bert/ref/baseline_*.npy (retrains bert)")
    args = ap.parse_args()
    if args.baseline_reference:
        baseline_reference_main()
        return
    if args.bench is not None:
        bench_main(args.bench)
        return
    torch.set_num_threads(1)
    tok, vocab = build_vocab()
    print(f"vocab: {vocab} tokens; sample tokens: {tok.tokenize(SAMPLE_ENCODER)}")
    ops_lines = [f"# torch {torch.__version__}, transformers {tf.__version__}, onnx {onnx.__version__}, "
                 f"onnxruntime {ort.__version__}"]
    families = [("bert", "encoder"), ("distilbert", "encoder"), ("roberta", "encoder"),
                ("gpt2", "decoder"), ("llama", "decoder"), ("opt", "decoder")]
    for seed, (family, kind) in enumerate(families):
        do_family(family, kind, seed, tok, vocab, ops_lines)
    with open(os.path.join(OUT, "ops.txt"), "w") as f:
        f.write("\n".join(ops_lines) + "\n")
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"total fixture size: {total} bytes")


if __name__ == "__main__":
    main()
