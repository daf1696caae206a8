//! What embedding costs: counters behind the throughput and padding figures,
//! and the token-rate progress bar.

/// What embedding has cost so far: the numbers behind the padding and
/// throughput targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EmbedStats {
    /// Texts run through the model (cache hits and duplicates excluded).
    pub texts: usize,
    /// Real tokens fed to the model, special tokens included.
    pub tokens: u64,
    /// Token slots the model computed: batch size × longest text, summed.
    pub slots: u64,
    /// Texts answered from the cache.
    pub cached: usize,
    /// Wall seconds spent in the model loop.
    pub seconds: f64,
    /// Wall seconds spent fitting texts into the token budget.
    pub truncate_seconds: f64,
}

impl EmbedStats {
    /// Share of computed slots that were padding.
    pub fn padding_waste(&self) -> f64 {
        if self.slots == 0 {
            0.0
        } else {
            1.0 - self.tokens as f64 / self.slots as f64
        }
    }

    /// Real tokens per second of the model loop.
    pub fn tokens_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.tokens as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// The terminal's token-throughput progress bar of embedding `what`.
pub(super) fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(&format!(
        "embedding {what:<10} [{{bar:30}}] {{percent:>3}}% {{rate}}, eta {{eta}}  {{msg}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .with_key("rate", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{} tokens/s", thousands(state.per_sec()));
    });
    bar.set_style(style);
    bar
}

/// A count or rate as a whole number with thousands separators: `6,211`.
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(6210.6589), "6,211");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(0.0), "0");
    }
}
