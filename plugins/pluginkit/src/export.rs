//! The [`export_plugin!`](crate::export_plugin) macro: WIT bindings and
//! exports for a [`Plugin`](crate::Plugin).

/// Export a [`Plugin`](crate::Plugin) implementation as the
/// `selfup:plugin/plugin` world.
///
/// Call it once at the root of a plugin crate that lives in `plugins/<crate>/`
/// (the WIT is read from `../../wit` relative to the crate). On targets other
/// than `wasm32` it expands to nothing, so the crate's logic can be tested
/// natively.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        #[cfg(target_arch = "wasm32")]
        mod __pluginkit_component {
            ::pluginkit::wit_bindgen::generate!({
                path: "../../wit",
                world: "plugin",
                runtime_path: "::pluginkit::wit_bindgen::rt",
            });

            use self::selfup::plugin::types::ErrorCode;

            fn to_wit(error: ::pluginkit::PluginError) -> PluginError {
                let code = match error.code {
                    ::pluginkit::ErrorCode::InvalidInput => ErrorCode::InvalidInput,
                    ::pluginkit::ErrorCode::UnsupportedCapability => {
                        ErrorCode::UnsupportedCapability
                    }
                    ::pluginkit::ErrorCode::Internal => ErrorCode::Internal,
                };
                PluginError {
                    code,
                    message: error.message,
                }
            }

            struct Component;

            impl Guest for Component {
                fn initialize(context: String) -> Result<(), PluginError> {
                    ::pluginkit::runtime::initialize(&context).map_err(to_wit)
                }

                fn capabilities() -> Vec<String> {
                    ::pluginkit::runtime::capabilities::<super::$plugin>()
                }

                fn execute(capability: String, request: String) -> Result<String, PluginError> {
                    ::pluginkit::runtime::execute::<super::$plugin>(&capability, &request)
                        .map_err(to_wit)
                }

                fn health() -> HealthStatus {
                    let (healthy, details) = ::pluginkit::runtime::health::<super::$plugin>();
                    HealthStatus { healthy, details }
                }

                fn shutdown() {
                    ::pluginkit::runtime::shutdown();
                }
            }

            export!(Component);
        }
    };
}
