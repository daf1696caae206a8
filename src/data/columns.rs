//! The columns knnpref reads, by name: where each sits in a file's header,
//! and one row's raw cells as named fields, so that the CSV and Parquet
//! readers and the row parser never share positions by convention.

/// Whether a file must carry the three winner columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// Training files: every row needs its vote.
    Required,
    /// Test files: labels are read when present, never read (a test file's votes play no part).
    Optional,
    /// Files whose texts alone are wanted (`knnpref embed`): winner columns
    /// are not read, and their presence is no cause for a warning.
    Ignored,
}

/// The one-hot vote columns, in class-index order.
pub(crate) const LABEL_COLUMNS: [&str; 3] = ["winner_model_a", "winner_model_b", "winner_tie"];

/// Where the columns knnpref reads sit in a header (`None`: absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ColumnPositions {
    pub id: Option<usize>,
    pub prompt: Option<usize>,
    pub response_a: Option<usize>,
    pub response_b: Option<usize>,
    /// `winner_model_a`, `winner_model_b`, `winner_tie`: class-index order.
    pub winners: [Option<usize>; 3],
    pub model_a: Option<usize>,
    pub model_b: Option<usize>,
}

/// The raw text cells of one row, by column (`None`: the file lacks it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawRow {
    pub id: Option<String>,
    pub prompt: Option<String>,
    pub response_a: Option<String>,
    pub response_b: Option<String>,
    /// In class-index order, as [`ColumnPositions::winners`].
    pub winners: [Option<String>; 3],
    pub model_a: Option<String>,
    pub model_b: Option<String>,
}

impl ColumnPositions {
    /// Find each column by its exact name (surrounding spaces ignored).
    pub(crate) fn locate(header: &[String]) -> ColumnPositions {
        let at = |name: &str| header.iter().position(|h| h.trim() == name);
        let [a, b, tie] = LABEL_COLUMNS;
        ColumnPositions {
            id: at("id"),
            prompt: at("prompt"),
            response_a: at("response_a"),
            response_b: at("response_b"),
            winners: [at(a), at(b), at(tie)],
            model_a: at("model_a"),
            model_b: at("model_b"),
        }
    }

    /// The columns to read for `labels`: a test file's winner columns are
    /// left unread, so that whatever they hold cannot fail the read.
    pub(crate) fn reading(self, labels: Labels) -> ColumnPositions {
        match labels {
            Labels::Required => self,
            Labels::Optional | Labels::Ignored => ColumnPositions { winners: [None; 3], ..self },
        }
    }

    /// The positions of every column found.
    pub(crate) fn located(&self) -> impl Iterator<Item = usize> {
        [self.id, self.prompt, self.response_a, self.response_b, self.model_a, self.model_b]
            .into_iter()
            .chain(self.winners)
            .flatten()
    }

    /// One row's cells, read through `cell` (a position to its text).
    pub(crate) fn row<E>(&self, mut cell: impl FnMut(usize) -> Result<String, E>) -> Result<RawRow, E> {
        let mut get = |p: Option<usize>| p.map(&mut cell).transpose();
        Ok(RawRow {
            id: get(self.id)?,
            prompt: get(self.prompt)?,
            response_a: get(self.response_a)?,
            response_b: get(self.response_b)?,
            winners: [get(self.winners[0])?, get(self.winners[1])?, get(self.winners[2])?],
            model_a: get(self.model_a)?,
            model_b: get(self.model_b)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let header: Vec<String> =
            ["winner_tie", " prompt", "x", "id", "response_b", "response_a"].map(String::from).into();
        let pos = ColumnPositions::locate(&header);
        assert_eq!(
            (pos.id, pos.prompt, pos.response_a, pos.response_b),
            (Some(3), Some(1), Some(5), Some(4))
        );
        assert_eq!(pos.winners, [None, None, Some(0)]);
        let cells = ["t", "p", "x", "7", "b", "a"];
        let row = pos.row(|p| Ok::<_, ()>(cells[p].to_string())).unwrap();
        assert_eq!(row.id.as_deref(), Some("7"));
        assert_eq!(row.response_a.as_deref(), Some("a"));
        assert_eq!(row.winners, [None, None, Some("t".to_string())]);
        assert_eq!(row.model_a, None);
    }
}
