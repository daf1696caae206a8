//! Whose fault a failure is: the user's, the environment's or knnpref's.
//!
//! Every error type of the library classifies its own variants with a
//! `fault()` method, written next to the variants (an exhaustive `match`, so
//! a new variant cannot be added without deciding whose fault it is). The
//! binary turns the class into the exit code and the Python module into the
//! exception type; nothing keeps a separate allow-list in step.

use std::io::ErrorKind;

/// Whose fault a failure is; it sets the exit code README documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The data, the arguments, the paths or the files the user gave
    /// (exit code 1): the message says what to change.
    User,
    /// The system refused: no space, quota, read-only file system,
    /// permission, a device I/O error (exit code 3).
    Environment,
    /// knnpref itself: a bug or an unexpected failure (exit code 2).
    Internal,
}

impl Fault {
    /// The process exit code for this fault.
    pub fn exit_code(self) -> u8 {
        match self {
            Fault::User => 1,
            Fault::Internal => 2,
            Fault::Environment => 3,
        }
    }

    /// The fault of an I/O error on a path the user chose (an input, an
    /// output, a model folder, the cache folder): the environment's when
    /// the system refused (see [`is_refusal`]), else the user's (the file
    /// is missing, a folder stands where a file should, …).
    pub fn of_io(e: &std::io::Error) -> Fault {
        if is_refusal(e) {
            Fault::Environment
        } else {
            Fault::User
        }
    }
}

/// errno 5 on Linux and macOS: an I/O error reported by the device.
const EIO: i32 = 5;

/// True when the system refused an operation for reasons outside the
/// command: no space or quota left, a file too large, a read-only file
/// system, permission denied, or a device I/O error (EIO).
pub fn is_refusal(io: &std::io::Error) -> bool {
    matches!(
        io.kind(),
        ErrorKind::StorageFull
            | ErrorKind::QuotaExceeded
            | ErrorKind::FileTooLarge
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::PermissionDenied
    ) || io.raw_os_error() == Some(EIO)
}

/// The first I/O error in `err`'s chain (`err` itself included) that is a
/// refusal of the system ([`is_refusal`]).
pub fn environment_failure<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>().filter(|io| is_refusal(io)) {
            return Some(io);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_the_environments_and_other_io_errors_the_users() {
        let e = |k: ErrorKind| std::io::Error::new(k, "x");
        assert_eq!(Fault::of_io(&e(ErrorKind::StorageFull)), Fault::Environment);
        assert_eq!(Fault::of_io(&e(ErrorKind::PermissionDenied)), Fault::Environment);
        assert_eq!(Fault::of_io(&std::io::Error::from_raw_os_error(EIO)), Fault::Environment);
        assert_eq!(Fault::of_io(&e(ErrorKind::NotFound)), Fault::User);
        assert_eq!(Fault::of_io(&e(ErrorKind::NotADirectory)), Fault::User);
        assert_eq!([Fault::User, Fault::Internal, Fault::Environment].map(Fault::exit_code), [1, 2, 3]);
    }

    #[test]
    fn a_refusal_is_found_anywhere_in_the_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let full = Outer(std::io::Error::new(ErrorKind::StorageFull, "full"));
        assert!(environment_failure(&full).is_some());
        let missing = Outer(std::io::Error::new(ErrorKind::NotFound, "gone"));
        assert!(environment_failure(&missing).is_none());
    }
}
