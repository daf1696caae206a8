//! The graph walk on the committed tiny fixtures and on models written
//! here field by field, one fault at a time.

use super::*;

const WITH_TYPES: &[u8] = include_bytes!("../../../tests/fixtures/tiny-encoder/with-types/model.onnx");
const WITHOUT_TYPES: &[u8] = include_bytes!("../../../tests/fixtures/tiny-encoder/without-types/model.onnx");
const NO_MASK: &[u8] = include_bytes!("../../../tests/fixtures/tiny-encoder/no-attention-mask.onnx");

const INT32: u64 = 6;
const FLOAT16: u64 = 10;

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A length-delimited field.
fn bytes(field: u64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(field << 3 | 2, &mut out);
    varint(data.len() as u64, &mut out);
    out.extend_from_slice(data);
    out
}

/// A varint field.
fn num(field: u64, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(field << 3, &mut out);
    varint(n, &mut out);
    out
}

enum D {
    N(u64),
    S(&'static str),
}

/// A `ValueInfoProto` of a tensor.
fn tensor(name: &str, elem: u64, dims: &[D]) -> Vec<u8> {
    let shape: Vec<u8> = dims
        .iter()
        .flat_map(|d| match d {
            D::N(n) => bytes(1, &num(1, *n)),
            D::S(s) => bytes(1, &bytes(2, s.as_bytes())),
        })
        .collect();
    let t = [num(1, elem), bytes(2, &shape)].concat();
    [bytes(1, name.as_bytes()), bytes(2, &bytes(1, &t))].concat()
}

fn ids(name: &str) -> Vec<u8> {
    tensor(name, 7, &[D::S("batch"), D::S("seq")])
}

/// A `TensorProto` initializer named `name` (external when asked).
fn init(name: &str, external: bool) -> Vec<u8> {
    let mut t = [num(1, 4), num(2, 1), bytes(8, name.as_bytes())].concat();
    if external {
        t.extend(num(14, 1));
    }
    t
}

/// A `ModelProto` with these graph inputs, outputs and initializers.
fn model(inputs: &[Vec<u8>], outputs: &[Vec<u8>], inits: &[Vec<u8>]) -> Vec<u8> {
    let mut g = bytes(2, b"g");
    g.extend(inits.iter().flat_map(|i| bytes(5, i)));
    g.extend(inputs.iter().flat_map(|i| bytes(11, i)));
    g.extend(outputs.iter().flat_map(|o| bytes(12, o)));
    [num(1, 8), bytes(2, b"test"), bytes(7, &g)].concat()
}

fn tokens(dim: u64) -> Vec<u8> {
    tensor("last_hidden_state", 1, &[D::S("batch"), D::S("seq"), D::N(dim)])
}

fn check(m: &[u8]) -> Result<Option<usize>, String> {
    Graph::parse(m).unwrap().check()
}

#[test]
fn the_tiny_fixtures_are_read_as_declared() {
    let g = Graph::parse(WITH_TYPES).unwrap();
    assert_eq!(g.inputs.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), FED);
    assert_eq!(g.check(), Ok(Some(4)));
    assert_eq!(g.outputs_text(), "last_hidden_state (float32 [batch, seq, 4])");
    let g = Graph::parse(WITHOUT_TYPES).unwrap();
    assert_eq!(g.inputs_text(), "input_ids (int64 [batch, seq]), attention_mask (int64 [batch, seq])");
    assert_eq!(g.check(), Ok(Some(4)));
    assert!(g.initializers.contains("table") && g.external.is_none());
}

#[test]
fn a_graph_without_attention_mask_is_refused() {
    let g = Graph::parse(NO_MASK).unwrap();
    assert_eq!(g.check(), Err("has no attention_mask input".into()));
    assert_eq!(g.inputs_text(), "input_ids (int64 [batch, seq])");
}

#[test]
fn inputs_must_be_the_ones_knnpref_feeds_unless_they_have_defaults() {
    let out = [tokens(8)];
    let three = [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")];
    assert_eq!(check(&model(&three, &out, &[])), Ok(Some(8)));
    let extra = [ids("input_ids"), ids("attention_mask"), ids("position_ids")];
    assert_eq!(
        check(&model(&extra, &out, &[])),
        Err("needs input position_ids, which knnpref does not feed".into())
    );
    // An initializer listed as an input (IR < 4) is a default, not a requirement.
    assert_eq!(check(&model(&extra, &out, &[init("position_ids", false)])), Ok(Some(8)));
    let no_ids = [ids("attention_mask")];
    assert_eq!(check(&model(&no_ids, &out, &[])), Err("has no input_ids input".into()));
    let int32 = [tensor("input_ids", INT32, &[D::S("b"), D::S("s")]), ids("attention_mask")];
    let err = check(&model(&int32, &out, &[])).unwrap_err();
    assert_eq!(err, "takes input_ids as int32 [b, s], not an int64 tensor");
    let flat = [tensor("input_ids", 7, &[D::S("n")]), ids("attention_mask")];
    assert!(check(&model(&flat, &out, &[])).unwrap_err().contains("with 1 dimensions"));
}

#[test]
fn the_output_is_chosen_as_run_chooses_it_and_its_width_read() {
    let inputs = [ids("input_ids"), ids("attention_mask")];
    let pooler = tensor("pooler_output", 1, &[D::S("batch"), D::N(3)]);
    // Several outputs: the one named last_hidden_state, whatever its place.
    assert_eq!(check(&model(&inputs, &[pooler.clone(), tokens(8)], &[])), Ok(Some(8)));
    let pooled = tensor("sentence_embedding", 1, &[D::S("batch"), D::N(16)]);
    assert_eq!(check(&model(&inputs, &[pooler.clone(), pooled], &[])), Ok(Some(16)));
    let other = tensor("other", 1, &[D::S("batch"), D::N(5)]);
    assert_eq!(
        check(&model(&inputs, &[pooler.clone(), other], &[])),
        Err("has several outputs and none of the names knnpref reads".into())
    );
    // One output is read whatever its name; a symbolic width is left to config.json.
    assert_eq!(check(&model(&inputs, &[pooler], &[])), Ok(Some(3)));
    let free = tensor("out", 1, &[D::S("batch"), D::S("seq"), D::S("hidden")]);
    assert_eq!(check(&model(&inputs, &[free], &[])), Ok(None));
    assert_eq!(check(&model(&inputs, &[], &[])), Err("has no outputs".into()));
    let half = tensor("out", FLOAT16, &[D::S("batch"), D::N(4)]);
    assert_eq!(
        check(&model(&inputs, &[half], &[])),
        Err("gives out as float16 [batch, 4], not a float32 tensor".into())
    );
    let four = tensor("out", 1, &[D::N(1), D::N(2), D::N(3), D::N(4)]);
    assert!(check(&model(&inputs, &[four], &[])).unwrap_err().contains("with 4 dimensions"));
}

#[test]
fn weights_in_external_files_are_refused() {
    let inputs = [ids("input_ids"), ids("attention_mask")];
    let m = model(&inputs, &[tokens(8)], &[init("w", false), init("embeddings", true)]);
    let err = check(&m).unwrap_err();
    assert!(err.contains("initializer embeddings in an external data file"), "{err}");
}

#[test]
fn bytes_that_are_not_a_model_are_malformed() {
    assert_eq!(Graph::parse(b""), Err(Malformed("it holds no graph")));
    assert!(Graph::parse(b"not an onnx file").is_err());
    assert!(Graph::parse(b"{\"hidden_size\": 4}").is_err());
    for cut in [WITH_TYPES.len() / 2, WITH_TYPES.len() - 1] {
        assert!(Graph::parse(&WITH_TYPES[..cut]).is_err(), "cut at {cut}");
    }
    // A varint that never ends, and a length past the end.
    assert!(Graph::parse(&[0x08, 0xff, 0xff, 0xff]).is_err());
    assert!(Graph::parse(&[0x3a, 0x7f, 0x00]).is_err());
}
