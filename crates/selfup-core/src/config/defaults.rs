//! The default of every section: the seed's `config.yaml`, plus our own sections.
//!
//! `config/default.yaml` at the repository root spells out the same values; a test keeps
//! the two equal.

use std::net::{Ipv4Addr, SocketAddr};

use super::model::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            name: "OpenClaw Self-Upgrading Loop".to_owned(),
            version: semver::Version::new(1, 0, 0),
            cycle: CycleConfig::default(),
            discovery: DiscoveryConfig::default(),
            decision: DecisionConfig::default(),
            ab_testing: AbTestingConfig::default(),
            rollout: RolloutConfig::default(),
            performance: PerformanceConfig::default(),
            rollback: RollbackConfig::default(),
            security: SecurityConfig::default(),
            logging: LoggingConfig::default(),
            notifications: NotificationsConfig::default(),
            gateway: GatewayConfig::default(),
            host: HostConfig::default(),
            telemetry: TelemetryConfig::default(),
            catalog: CatalogConfig::default(),
        }
    }
}

impl Default for CycleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_minutes: 60,
            max_concurrent_upgrades: 2,
            max_upgrades_per_day: 10,
        }
    }
}

impl Default for PatternRecognitionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            scan_depth: ScanDepth::Deep,
            min_pattern_frequency: 5,
            code_paths: strings(&["./src", "./plugins"]),
            exclude_patterns: strings(&["*/tests/*", "*/__pycache__/*"]),
            similarity_threshold: 0.85,
            min_clone_tokens: 15,
        }
    }
}

impl Default for GapAnalysisConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            analyze_user_requests: true,
            analyze_failures: true,
            market_scan_enabled: true,
            min_gap_severity: Severity::Medium,
            request_similarity: 0.3,
        }
    }
}

impl Default for RuntimeAnalysisConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            baseline_window_hours: 24,
            recent_window_hours: 1,
            significance: 0.01,
            min_calls: 30,
            sequence_gap_seconds: 60,
            min_latency_increase_ms: 1.0,
            min_cpu_increase_ms: 1.0,
            min_memory_increase_mb: 1.0,
        }
    }
}

impl Default for DecisionConfig {
    fn default() -> Self {
        Self {
            engine: DecisionEngine::Llm,
            auto_approve_threshold: 0.85,
            require_human_approval_above_risk: 0.6,
            llm: LlmConfig::default(),
            approval_expiry_hours: 72,
        }
    }
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            model: "gpt-5.2".to_owned(),
            temperature: 0.3,
            thinking_mode: ThinkingMode::High,
            base_url: "https://api.openai.com/v1".to_owned(),
            api_key_env: "OPENAI_API_KEY".to_owned(),
            max_tokens: 2000,
            timeout_seconds: 60.0,
            max_retries: 2,
            daily_token_budget: 1_000_000,
            daily_cost_budget_usd: 5.0,
            input_cost_per_million_tokens: 1.75,
            output_cost_per_million_tokens: 14.0,
            store_prompts: false,
        }
    }
}

impl Default for AbTestingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            default_significance_level: 0.05,
            default_power: 0.8,
            max_experiment_duration_days: 14,
            min_sample_size: 100,
        }
    }
}

impl Default for RolloutConfig {
    fn default() -> Self {
        let stage = |name: &str, traffic_percentage: f64, duration_hours: f64, gates| Stage {
            name: name.to_owned(),
            traffic_percentage,
            duration_hours,
            gates,
        };
        let gate = |metric, threshold| Gate { metric, threshold };
        Self {
            enabled: true,
            default_strategy: RolloutStrategy::Gradual,
            auto_rollback_on_failure: true,
            stages: vec![
                stage(
                    "internal",
                    0.0,
                    24.0,
                    vec![gate(GateMetric::ErrorRate, 0.01)],
                ),
                stage(
                    "canary_5",
                    5.0,
                    48.0,
                    vec![
                        gate(GateMetric::ErrorRate, 0.005),
                        gate(GateMetric::LatencyP99, 1000.0),
                    ],
                ),
                stage("gradual_25", 25.0, 72.0, Vec::new()),
                stage("full", 100.0, 168.0, Vec::new()),
            ],
            evaluation_interval_ms: 500,
        }
    }
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_latency_regression_percent: 20.0,
            max_error_rate_regression_multiplier: 2.0,
            max_memory_increase_percent: 30.0,
            max_cpu_increase_percent: 25.0,
            min_latency_regression_ms: 1.0,
            min_cpu_regression_ms: 1.0,
            replay_samples: 50,
            replay_rounds: 3,
        }
    }
}

impl Default for RollbackConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            snapshot_retention_days: 30,
            auto_rollback_enabled: true,
            rollback_strategies: vec![
                RollbackStrategy::Full,
                RollbackStrategy::Partial,
                RollbackStrategy::Compensating,
            ],
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            code_signing_required: true,
            sandbox_enabled: true,
            max_scan_time_seconds: 300,
            forbidden_imports: strings(&["os.system", "subprocess.call", "eval", "exec"]),
            trusted_keys: Vec::new(),
        }
    }
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            file: "./logs/self_upgrading_loop.log".to_owned(),
            max_size_mb: 100,
            backup_count: 10,
            format: "%(asctime)s - %(name)s - %(levelname)s - %(message)s".to_owned(),
        }
    }
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        use NotificationEvent::*;
        Self {
            enabled: true,
            channels: vec![
                Channel {
                    kind: ChannelKind::Email,
                    url: None,
                    on_events: vec![
                        UpgradeApproved,
                        UpgradeDeployed,
                        UpgradeRolledBack,
                        UpgradeFailed,
                    ],
                    secret_env: None,
                    smtp: None,
                    from: None,
                    to: Vec::new(),
                },
                Channel {
                    kind: ChannelKind::Webhook,
                    url: Some("https://api.example.com/webhooks/upgrades".to_owned()),
                    on_events: vec![UpgradeDeployed, UpgradeRolledBack],
                    secret_env: None,
                    smtp: None,
                    from: None,
                    to: Vec::new(),
                },
            ],
            max_attempts: 5,
            timeout_seconds: 10.0,
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 8787)),
            router_refresh_ms: 250,
            rate_limit_per_second: 10_000,
            rate_limit_burst: 20_000,
            mcp_allowed_hosts: ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            max_instances_per_plugin: 4,
            epoch_tick_ms: 10,
            max_compile_seconds: 60.0,
        }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 65536,
            max_batch: 4096,
            input_sample_rate: 0.05,
            input_samples_per_capability: 200,
        }
    }
}

impl Default for WindowsServiceConfig {
    fn default() -> Self {
        Self {
            name: "OpenClawSelfUpgradingLoop".to_owned(),
            display_name: "OpenClaw AI Self-Upgrading Loop".to_owned(),
            description: "Autonomous capability expansion for OpenClaw AI agent".to_owned(),
            start_type: StartType::Auto,
        }
    }
}

impl Default for WindowsPaths {
    fn default() -> Self {
        Self {
            base: r"C:\ProgramData\OpenClaw\SelfUpgradingLoop".to_owned(),
            plugins: r"{base}\plugins".to_owned(),
            registry: r"{base}\registry".to_owned(),
            snapshots: r"{base}\snapshots".to_owned(),
            logs: r"{base}\logs".to_owned(),
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            directory: "catalog".to_owned(),
            index_url: String::new(),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username_env: "SELFUP_SMTP_USERNAME".to_owned(),
            password_env: "SELFUP_SMTP_PASSWORD".to_owned(),
        }
    }
}
