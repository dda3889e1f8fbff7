//! One module per page.

pub mod landing;
