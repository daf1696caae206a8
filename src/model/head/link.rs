//! The link between logits and probabilities, shared by the head, its
//! optimiser and the temperature step.

/// Probabilities from three logits (shifted by their maximum for stability).
pub(crate) fn softmax(z: [f64; 3]) -> [f64; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = [(z[0] - m).exp(), (z[1] - m).exp(), (z[2] - m).exp()];
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}
