// Shared by every corpus program (included with `include!`): no standard
// library, so the module imports nothing and exports only `run`.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
