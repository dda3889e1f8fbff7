//! One module per page.

pub mod canvas;
pub mod landing;
pub mod widget_test;
