//! The supervisors' app: the live floor, campaigns, leads and reports.
fn main() {
    pinline_web::supervisor_main();
}
