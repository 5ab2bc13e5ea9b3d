//! The agents' app: sign-in and the workspace.
fn main() {
    pinline_web::agent_main();
}
