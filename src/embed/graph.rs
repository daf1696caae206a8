//! What a `model.onnx` declares: its graph's inputs, outputs and
//! initializers, read from the ONNX protobuf, and checked against what
//! knnpref feeds and reads, so that a folder whose graph cannot work is
//! refused when it is opened, naming what the graph has and what it needs.
//!
//! Why parse the protobuf here rather than ask an ONNX Runtime session:
//! sessions start only when something must be embedded (a run whose texts
//! are all cached never loads the graph into the runtime, which costs
//! seconds and the weights' memory for a large model), while the bytes of
//! `model.onnx` are already read at open for the model's identity. The few
//! fields read (`ModelProto.graph`, `GraphProto.input`/`output`/
//! `initializer`, their names, element types and shapes) have had the same
//! field numbers since ONNX's first release, protobuf never renumbers a
//! field, and the walk is a pure function of the bytes that the tests
//! exercise directly; anything it cannot read is refused as "not an ONNX
//! model", which ONNX Runtime would refuse too.

use std::collections::HashSet;
use std::fmt;

/// The output names knnpref reads when a graph has several, in order of
/// preference (fastembed's, as `run` selects them).
pub(super) const OUTPUT_NAMES: [&str; 3] = ["text_embeds", "last_hidden_state", "sentence_embedding"];

/// The inputs knnpref feeds: the first two always, the third when the
/// graph has it.
const FED: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

/// ONNX's element type numbers for int64 and float32.
const INT64: i32 = 7;
const FLOAT: i32 = 1;

/// What knnpref needs of a graph, for messages.
pub(super) const NEEDS: &str = "int64 inputs input_ids and attention_mask [batch, tokens] \
     (token_type_ids too if the graph takes it; no other input without a default), and one float32 output \
     of token vectors [batch, tokens, dim] or sentence vectors [batch, dim] (when there are several, \
     one named text_embeds, last_hidden_state or sentence_embedding)";

/// One length of a tensor's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dim {
    /// A fixed length.
    Fixed(i64),
    /// A symbolic length (`batch`, `sequence`, ...), or none given.
    Free(String),
}

/// A graph input or output as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Value {
    /// Its name.
    pub name: String,
    /// Its element type, when it is a tensor that declares one.
    pub elem: Option<i32>,
    /// Its shape, when declared.
    pub shape: Option<Vec<Dim>>,
    /// False for a sequence, map or other non-tensor value.
    pub tensor: bool,
}

/// The declarations of a graph that knnpref checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Graph {
    /// Inputs in order, initializers listed as inputs included.
    pub inputs: Vec<Value>,
    /// Outputs in order.
    pub outputs: Vec<Value>,
    /// Names of the initializers (an input of that name has a default).
    pub initializers: HashSet<String>,
    /// The first initializer whose data lies in another file, if any.
    pub external: Option<String>,
}

/// Why bytes are not a readable ONNX model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Malformed(pub &'static str);

/// One field of a protobuf message.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A fixed-width number, unused here.
    Fixed,
}

/// The fields of one protobuf message, in order.
struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.buf.split_first().ok_or(Malformed("a number runs past the end"))?;
            self.buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Malformed("a number is longer than 10 bytes"))
    }

    /// The next field: its number and value.
    fn field(&mut self) -> Result<(u64, Field<'a>), Malformed> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => self.take(8).map(|_| Field::Fixed)?,
            2 => {
                let len = self.varint()?;
                Field::Bytes(self.take(len)?)
            }
            5 => self.take(4).map(|_| Field::Fixed)?,
            _ => return Err(Malformed("a field has an unknown wire type")),
        };
        Ok((key >> 3, value))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Malformed> {
        let n = usize::try_from(n).ok().filter(|&n| n <= self.buf.len());
        let n = n.ok_or(Malformed("a field runs past the end"))?;
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Field<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            self.buf = &[];
        }
        Some(field)
    }
}

fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf }
}

fn text(bytes: &[u8]) -> Result<String, Malformed> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Malformed("a name is not UTF-8"))
}

impl Graph {
    /// Read the graph of a serialised `ModelProto`.
    pub(super) fn parse(model: &[u8]) -> Result<Graph, Malformed> {
        let mut graph = None;
        for field in fields(model) {
            // ModelProto.graph = 7.
            if let (7, Field::Bytes(b)) = field? {
                graph = Some(b);
            }
        }
        let mut out = Graph::default();
        for field in fields(graph.ok_or(Malformed("it holds no graph"))?) {
            match field? {
                // GraphProto.initializer = 5, input = 11, output = 12, sparse_initializer = 15.
                (5, Field::Bytes(b)) => out.initializer(b)?,
                (11, Field::Bytes(b)) => out.inputs.push(value(b)?),
                (12, Field::Bytes(b)) => out.outputs.push(value(b)?),
                (15, Field::Bytes(b)) => {
                    // SparseTensorProto.values = 1, a TensorProto named as the initializer.
                    for f in fields(b) {
                        if let (1, Field::Bytes(values)) = f? {
                            out.initializer(values)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Note a `TensorProto` initializer: its name, and whether its data is external.
    fn initializer(&mut self, tensor: &[u8]) -> Result<(), Malformed> {
        let (mut name, mut external) = (String::new(), false);
        for field in fields(tensor) {
            match field? {
                // TensorProto.name = 8, data_location = 14 (1 = EXTERNAL).
                (8, Field::Bytes(b)) => name = text(b)?,
                (14, Field::Varint(1)) => external = true,
                _ => {}
            }
        }
        if external && self.external.is_none() {
            self.external = Some(name.clone());
        }
        self.initializers.insert(name);
        Ok(())
    }

    /// The inputs that have no default (no initializer of their name).
    fn required(&self) -> impl Iterator<Item = &Value> {
        self.inputs.iter().filter(|v| !self.initializers.contains(&v.name))
    }

    /// The graph's inputs in words, for messages (those with defaults left out).
    pub(super) fn inputs_text(&self) -> String {
        list(self.required())
    }

    /// The graph's outputs in words, for messages.
    pub(super) fn outputs_text(&self) -> String {
        list(self.outputs.iter())
    }

    /// Check the graph against what knnpref feeds and reads; on success,
    /// the width of the output knnpref reads when the graph fixes it, else
    /// what is wrong.
    pub(super) fn check(&self) -> Result<Option<usize>, String> {
        if let Some(name) = &self.external {
            return Err(format!(
                "keeps initializer {name} in an external data file, which knnpref does not load; \
                 export the model with its weights inside model.onnx"
            ));
        }
        if let Some(odd) = self.required().find(|v| !FED.contains(&v.name.as_str())) {
            return Err(format!("needs input {}, which knnpref does not feed", odd.name));
        }
        for name in &FED[..2] {
            if !self.inputs.iter().any(|v| v.name == *name) {
                return Err(format!("has no {name} input"));
            }
        }
        for v in self.inputs.iter().filter(|v| FED.contains(&v.name.as_str())) {
            if !v.tensor || v.elem.is_some_and(|e| e != INT64) {
                return Err(format!("takes {} as {}, not an int64 tensor", v.name, v.type_text()));
            }
            if let Some(shape) = v.shape.as_ref().filter(|s| s.len() != 2) {
                return Err(format!("takes {} with {} dimensions, not [batch, tokens]", v.name, shape.len()));
            }
        }
        let output = match self.outputs.as_slice() {
            [] => return Err("has no outputs".into()),
            [only] => only,
            several => OUTPUT_NAMES
                .iter()
                .find_map(|want| several.iter().find(|v| v.name == *want))
                .ok_or_else(|| "has several outputs and none of the names knnpref reads".to_string())?,
        };
        if !output.tensor || output.elem.is_some_and(|e| e != FLOAT) {
            return Err(format!("gives {} as {}, not a float32 tensor", output.name, output.type_text()));
        }
        Ok(match output.shape.as_deref() {
            None => None,
            Some(shape) if matches!(shape.len(), 2 | 3) => match &shape[shape.len() - 1] {
                Dim::Fixed(d) if *d > 0 => Some(*d as usize),
                Dim::Fixed(d) => return Err(format!("gives {} vectors of width {d}", output.name)),
                Dim::Free(_) => None,
            },
            Some(shape) => {
                return Err(format!(
                    "gives {} with {} dimensions, not [batch, tokens, dim] or [batch, dim]",
                    output.name,
                    shape.len()
                ))
            }
        })
    }
}

/// Read a `ValueInfoProto`.
fn value(bytes: &[u8]) -> Result<Value, Malformed> {
    let mut v = Value { name: String::new(), elem: None, shape: None, tensor: true };
    for field in fields(bytes) {
        match field? {
            // ValueInfoProto.name = 1, type = 2.
            (1, Field::Bytes(b)) => v.name = text(b)?,
            (2, Field::Bytes(ty)) => {
                for f in fields(ty) {
                    match f? {
                        // TypeProto.tensor_type = 1; sequence, map, sparse and optional types otherwise.
                        (1, Field::Bytes(t)) => (v.elem, v.shape) = tensor_type(t)?,
                        (4 | 5 | 8 | 9, Field::Bytes(_)) => v.tensor = false,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(v)
}

/// Read a `TypeProto.Tensor`: element type and shape.
fn tensor_type(bytes: &[u8]) -> Result<(Option<i32>, Option<Vec<Dim>>), Malformed> {
    let (mut elem, mut shape) = (None, None);
    for field in fields(bytes) {
        match field? {
            // Tensor.elem_type = 1, shape = 2 (TensorShapeProto, its dims = 1).
            (1, Field::Varint(e)) => elem = Some(e as i32),
            (2, Field::Bytes(s)) => {
                let mut dims = Vec::new();
                for f in fields(s) {
                    if let (1, Field::Bytes(d)) = f? {
                        dims.push(dimension(d)?);
                    }
                }
                shape = Some(dims);
            }
            _ => {}
        }
    }
    Ok((elem, shape))
}

/// Read a `TensorShapeProto.Dimension`: dim_value = 1 or dim_param = 2.
fn dimension(bytes: &[u8]) -> Result<Dim, Malformed> {
    let mut dim = Dim::Free(String::new());
    for field in fields(bytes) {
        match field? {
            (1, Field::Varint(n)) => dim = Dim::Fixed(n as i64),
            (2, Field::Bytes(b)) => dim = Dim::Free(text(b)?),
            _ => {}
        }
    }
    Ok(dim)
}

/// ONNX's name of an element type.
fn elem_name(elem: i32) -> String {
    const NAMES: [&str; 17] = [
        "undefined",
        "float32",
        "uint8",
        "int8",
        "uint16",
        "int16",
        "int32",
        "int64",
        "string",
        "bool",
        "float16",
        "float64",
        "uint32",
        "uint64",
        "complex64",
        "complex128",
        "bfloat16",
    ];
    usize::try_from(elem)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("type {elem}"), |n| n.to_string())
}

impl Value {
    /// Its type in words: `int64 [batch, 7]`, `a non-tensor value`, ...
    fn type_text(&self) -> String {
        if !self.tensor {
            return "a non-tensor value".into();
        }
        let elem = self.elem.map_or_else(|| "untyped".to_string(), elem_name);
        match &self.shape {
            None => elem,
            Some(shape) => {
                format!("{elem} [{}]", shape.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Free(name) if name.is_empty() => f.write_str("?"),
            Dim::Free(name) => f.write_str(name),
        }
    }
}

/// Values in words: `input_ids (int64 [batch, seq]), ...`, or `none`.
fn list<'a>(values: impl Iterator<Item = &'a Value>) -> String {
    let parts: Vec<String> = values.map(|v| format!("{} ({})", v.name, v.type_text())).collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests;
