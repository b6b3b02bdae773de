//! The threads and channels of the data path.
