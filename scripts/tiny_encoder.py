#!/usr/bin/env python3
"""Write tests/fixtures/tiny-encoder/{with-types,without-types}: two four-dimensional "sentence
encoders" small enough to commit, so that Rust tests can run ONNX graphs with and without a
`token_type_ids` input through knnpref's embedding code and check the vectors by hand.

    ~/.cache/knnpref/venv/bin/python scripts/tiny_encoder.py      (the setup venv has onnx and numpy)

Each folder is a sentence-transformers folder: a word-level tokenizer.json over a dozen words
([CLS] text [SEP]), the configs fastembed reads, modules.json with mean pooling, and a model.onnx whose
last_hidden_state is the token's row of a fixed table times the attention mask; the "with-types"
graph also adds the row of a token-type table (knnpref feeds type 0). The tables follow a formula the
tests repeat: TABLE[i][j] = ((7*i + 3*j) % 11 - 5) / 4 and TYPES[t][j] = (j + 1) / 8 for t = 0, 1
(exact in float32). Run once; the output is committed.

It also writes tests/fixtures/tiny-encoder/no-attention-mask.onnx: the without-types graph with no
attention_mask input (a valid graph that knnpref must refuse when a folder holding it is opened).
"""

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny-encoder"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far"]
DIM = 4


def table():
    return np.array([[((7 * i + 3 * j) % 11 - 5) / 4 for j in range(DIM)] for i in range(len(WORDS))], np.float32)


def types():
    return np.array([[(j + 1) / 8 for j in range(DIM)] for _ in range(2)], np.float32)


def graph(with_types):
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    inputs = [ids, mask]
    inits = [numpy_helper.from_array(table(), "table"), numpy_helper.from_array(np.array([-1], np.int64), "last")]
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "last"], ["mask3"]),
    ]
    summed = "rows"
    if with_types:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"]))
        inits.append(numpy_helper.from_array(types(), "types"))
        nodes.append(helper.make_node("Gather", ["types", "token_type_ids"], ["typerows"], axis=0))
        nodes.append(helper.make_node("Add", ["rows", "typerows"], ["summed"]))
        summed = "summed"
    nodes.append(helper.make_node("Mul", [summed, "mask3"], ["last_hidden_state"]))
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM])
    g = helper.make_graph(nodes, "tiny", inputs, [out], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="knnpref-tiny")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def graph_without_mask():
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM])
    g = helper.make_graph(nodes, "tiny-no-mask", [ids], [out], [numpy_helper.from_array(table(), "table")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="knnpref-tiny")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tokenizer():
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [
            {"id": i, "content": w, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for i, w in enumerate(WORDS[:4])],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(WORDS)}, "unk_token": "[UNK]"},
    }


def write(folder, with_types):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1_Pooling").mkdir(exist_ok=True)
    onnx.save(graph(with_types), folder / "model.onnx")
    files = {
        "tokenizer.json": tokenizer(),
        "config.json": {"hidden_size": DIM, "max_position_embeddings": 32, "pad_token_id": 0},
        "special_tokens_map.json": {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                                    "sep_token": "[SEP]"},
        "tokenizer_config.json": {"model_max_length": 32, "pad_token": "[PAD]"},
        "sentence_bert_config.json": {"max_seq_length": 16, "do_lower_case": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}],
        "1_Pooling/config.json": {"word_embedding_dimension": DIM, "pooling_mode": "mean"},
    }
    for name, doc in files.items():
        (folder / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write(OUT / "with-types", True)
    write(OUT / "without-types", False)
    onnx.save(graph_without_mask(), OUT / "no-attention-mask.onnx")
    print(f"wrote {OUT}")
