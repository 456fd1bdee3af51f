//! Raw config → [`Settings`], collecting every error with its line and key.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use connector_actors::directory::bind::keytab::KeytabBind;
use connector_actors::directory::forest::Referrals;
use connector_actors::directory::ServiceBind;
use connector_actors::dispatcher::DispatcherSettings;
use connector_actors::ldap::dn::Dn;
use connector_actors::link::LinkSettings;
use connector_actors::protocol::wire::{DirectorySummary, API_PATH};
use connector_actors::queue::{LaneCaps, QueueSettings};
use toml::Spanned;

use super::errors::Collector;
use super::raw::{RawConfig, RawConnector, RawDirectory, RawPolicy, RawServer};
use super::secrets::{Presence, SecretKeys, SecretSource, TOKEN_ENV};
use super::service_bind::RawServiceBind;
use super::settings::{DirectoryKind, DirectorySettings, PlainUrlSecurity, ScopePolicy, Settings};

pub(super) struct Validator<'a, 'e> {
    pub c: Collector<'a>,
    pub env: &'e dyn SecretSource,
    pub warnings: Vec<String>,
    /// The file holds a secret in clear (token or bind password inline).
    pub holds_secret: bool,
}

fn span<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    Some(s.span())
}

impl Validator<'_, '_> {
    pub fn settings(&mut self, raw: RawConfig) -> Option<Settings> {
        let connector = self.connector(&raw.connector);
        let server_span = raw.server.span();
        let server = raw.server.into_inner();
        let storage = raw.storage.into_inner();
        let storage_path = PathBuf::from(storage.path.get_ref());
        if !storage_path.is_absolute() {
            self.c.at(span(&storage.path), "storage.path", "must be an absolute path");
        }
        let ui_listen = match &raw.ui.listen {
            None => SocketAddr::from(([127, 0, 0, 1], 8086)),
            Some(l) => l.get_ref().parse().unwrap_or_else(|_| {
                self.c.at(span(l), "ui.listen", "expected an address and port such as \"127.0.0.1:8086\"");
                SocketAddr::from(([127, 0, 0, 1], 8086))
            }),
        };
        let ui_admin_token = self.ui_token(&raw.ui, ui_listen);
        let logging = self.logging(&raw.logging, &storage_path);
        self.distinct_password_variables(raw.directories.keys());
        let directories: Vec<DirectorySettings> =
            raw.directories.into_iter().filter_map(|(name, d)| self.directory(name, d)).collect();
        let link = self.server(server, server_span, &connector, &directories);
        let (link, connector) = (link?, connector?);
        if !self.c.errors.is_empty() {
            return None;
        }
        let mut queue = QueueSettings::new(storage_path);
        queue.caps = LaneCaps::for_concurrency(connector.max_concurrency);
        queue.retention = connector.retention;
        queue.max_attempts = connector.max_attempts;
        queue.shed_logins_after = connector.shed_logins_after;
        Some(Settings {
            file: self.c.file.to_path_buf(),
            link,
            queue,
            dispatcher: DispatcherSettings { max_concurrency: connector.max_concurrency },
            drain_grace: connector.drain_grace,
            ui_listen,
            ui_admin_token,
            logging,
            directories,
            warnings: std::mem::take(&mut self.warnings),
            source: super::settings::ConfigSource::of(self.c.source),
        })
    }

    pub(super) fn duration(&mut self, v: &Option<Spanned<String>>, key: &str, default: Duration) -> Duration {
        match v {
            None => default,
            Some(s) => humantime::parse_duration(s.get_ref()).unwrap_or_else(|e| {
                self.c.at(span(s), key, format!("expected a duration such as \"30s\" or \"5m\" ({e})"));
                default
            }),
        }
    }

    pub(super) fn int(
        &mut self,
        v: &Option<Spanned<i64>>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
    ) -> i64 {
        match v {
            None => default,
            Some(n) if range.contains(n.get_ref()) => *n.get_ref(),
            Some(n) => {
                let msg = format!("{} is out of range: expected {} to {}", n.get_ref(), range.start(), range.end());
                self.c.at(span(n), key, msg);
                default
            }
        }
    }

    fn connector(&mut self, raw: &RawConnector) -> Option<ConnectorPart> {
        let hostname = host_name();
        Some(ConnectorPart {
            name: raw.name.as_ref().map_or_else(|| format!("ic-{hostname}"), |n| n.get_ref().clone()),
            hostname,
            max_concurrency: self.int(&raw.max_concurrency, "connector.max_concurrency", 1..=256, 16) as usize,
            drain_grace: self.duration(&raw.drain_grace, "connector.drain_grace", Duration::from_secs(30)),
            retention: self.duration(&raw.retention, "connector.retention", Duration::from_secs(7 * 86_400)),
            max_attempts: self.int(&raw.max_attempts, "connector.max_attempts", 1..=100, 5) as u32,
            shed_logins_after: self.shed_logins_after(&raw.shed_logins_after),
        })
    }

    fn server(
        &mut self,
        s: RawServer,
        table: std::ops::Range<usize>,
        connector: &Option<ConnectorPart>,
        directories: &[DirectorySettings],
    ) -> Option<LinkSettings> {
        let protocol = s.protocol.get_ref().as_str();
        let default_port = match protocol {
            "https" => 443,
            "http" => 80,
            other => {
                self.c.at(span(&s.protocol), "server.protocol", format!("\"{other}\" is not \"http\" or \"https\""));
                443
            }
        };
        let port = self.int(&s.port, "server.port", 1..=65_535, default_port);
        let host = s.host.get_ref().trim().to_owned();
        let host_ok = !host.is_empty() && !host.contains(['/', ':', ' ', '@', '?', '#']) || host.starts_with('[');
        if !host_ok {
            let msg = "expected a host name or IP address only, such as \"servicedesk.example.com\" (no scheme, port or path)";
            self.c.at(span(&s.host), "server.host", msg);
        }
        if protocol == "http" && host_ok && !is_loopback(&host) {
            self.warnings.push(format!(
                "{}: server.protocol is \"http\": the token and all job data (including passwords) cross the network unencrypted to {host}; use https",
                self.c.file.display()
            ));
        }
        let extra_ca_pem = self.ca_file(&s.ca_file, "server.ca_file");
        let proxy = s.proxy.as_ref().and_then(|p| match url::Url::parse(p.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5") => Some(p.get_ref().clone()),
            _ => {
                self.c.at(span(p), "server.proxy", "expected a proxy URL such as \"http://proxy.example.com:3128\"");
                None
            }
        });
        let connect_timeout = self.duration(&s.connect_timeout, "server.connect_timeout", Duration::from_secs(10));
        let request_timeout = self.duration(&s.request_timeout, "server.request_timeout", Duration::from_secs(60));
        let keys = SecretKeys { key: "server.token", env: TOKEN_ENV, inline: s.token, file: s.token_file };
        let token = self.secret(keys, Presence::Required, table);
        let connector = connector.as_ref()?;
        let base_url = format!("{protocol}://{host}:{port}{API_PATH}");
        if url::Url::parse(&base_url).is_err() && host_ok {
            self.c.at(span(&s.host), "server.host", format!("\"{host}\" does not make a valid URL"));
        }
        Some(LinkSettings {
            base_url,
            token: token?,
            extra_ca_pem,
            proxy,
            connect_timeout,
            request_timeout,
            name: connector.name.clone(),
            hostname: connector.hostname.clone(),
            max_concurrency: connector.max_concurrency,
            directories: directories
                .iter()
                .map(|d| DirectorySummary {
                    name: d.name.clone(),
                    kind: d.kind.as_str().into(),
                    base_dn: d.base_dn.clone(),
                })
                .collect(),
        })
    }

    fn directory(&mut self, name: String, raw: Spanned<RawDirectory>) -> Option<DirectorySettings> {
        let table = raw.span();
        let d = raw.into_inner();
        let key = |k: &str| format!("directories.{name}.{k}");
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            self.c.at(
                Some(table.clone()),
                &format!("directories.{name}"),
                "directory names use letters, digits, - and _",
            );
        }
        let kind = match d.kind.get_ref().as_str() {
            "active_directory" => Some(DirectoryKind::ActiveDirectory),
            "ldap" => Some(DirectoryKind::Ldap),
            other => {
                let msg = format!("unknown kind \"{other}\": expected \"active_directory\" or \"ldap\"");
                self.c.at(span(&d.kind), &key("kind"), msg);
                None
            }
        };
        let (urls, discovery) = self.servers(&d, kind, table.clone(), &key);
        for (k, v) in [("bind_dn", &d.bind_dn), ("base_dn", &d.base_dn)] {
            if v.get_ref().trim().is_empty() {
                self.c.at(span(v), &key(k), "is empty");
            }
        }
        let login = self.login(&d, &key);
        let forest = self.forest(&d, kind, &key);
        let ca_pem = self.ca_file(&d.ca_file, &key("ca_file"));
        let encrypted = d.starttls.as_ref().is_none_or(|b| *b.get_ref()) || urls.iter().all(|u| u.scheme() == "ldaps");
        let raw_bind = RawServiceBind {
            bind_password: d.bind_password,
            bind_password_file: d.bind_password_file,
            client_cert_file: d.client_cert_file,
            client_key_file: d.client_key_file,
            bind_keytab: d.bind_keytab,
            bind_principal: d.bind_principal,
            bind_spn_host: d.bind_spn_host,
            encrypted,
        };
        let bind = self.service_bind(&name, raw_bind, table.clone());
        if let Some(ServiceBind::Keytab(k)) = &bind {
            let elsewhere = forest.global_catalog.is_some() || forest.referrals != Referrals::Drop;
            self.warn_one_spn_host(&name, k, &urls, discovery.is_some() || elsewhere);
        }
        let kind = kind?;
        let user_filter = d.user_filter.map(|f| f.into_inner()).unwrap_or_else(|| default_user_filter(kind).to_owned());
        if !user_filter.contains("{username}") || ldap3_filter_ok(&user_filter).is_err() {
            self.c.at(Some(table.clone()), &key("user_filter"), "must be a valid LDAP filter containing {username}");
        }
        let plain_urls = match d.starttls.as_ref().map(|b| *b.get_ref()) {
            Some(false) => {
                if urls.iter().any(|u| u.scheme() == "ldap") {
                    self.warnings.push(format!(
                        "directories.{name}.starttls = false: ldap:// connections are unencrypted; password jobs are refused on them"
                    ));
                }
                PlainUrlSecurity::None
            }
            _ => PlainUrlSecurity::StartTls,
        };
        let pool_min = self.int(&d.pool_min, &key("pool_min"), 0..=64, 1) as usize;
        let pool_max = self.int(&d.pool_max, &key("pool_max"), 1..=64, 4) as usize;
        if pool_min > pool_max {
            self.c.at(d.pool_min.as_ref().map(|s| s.span()), &key("pool_min"), "is larger than pool_max");
        }
        let policy = self.policy(d.policy.map(Spanned::into_inner), &d.base_dn, &key("policy"));
        let withhold_attributes = d.withhold_attributes.map(Spanned::into_inner).unwrap_or_default();
        if withhold_attributes.iter().any(|a| a.trim().is_empty()) {
            self.c.at(None, &key("withhold_attributes"), "holds an empty attribute name");
        }
        let connect_timeout = self.duration(&d.connect_timeout, &key("connect_timeout"), Duration::from_secs(5));
        let operation_timeout = self.duration(&d.operation_timeout, &key("operation_timeout"), Duration::from_secs(30));
        Some(DirectorySettings {
            name,
            kind,
            urls,
            discovery,
            bind_dn: d.bind_dn.into_inner(),
            bind: bind?,
            base_dn: d.base_dn.into_inner(),
            ca_pem,
            user_filter,
            plain_urls,
            pool_min,
            pool_max,
            connect_timeout,
            operation_timeout,
            policy,
            withhold_attributes,
            login,
            forest,
        })
    }
}

impl Validator<'_, '_> {
    /// `bind_spn_host` names one server's service principal (`ldap/<host>`, RFC 4752 §3.1):
    /// its ticket is not valid at another domain controller, so with several servers (DNS
    /// discovery, Global Catalog servers, referrals followed) a bind at another fails.
    fn warn_one_spn_host(&mut self, name: &str, k: &KeytabBind, urls: &[url::Url], found_elsewhere: bool) {
        let Some(host) = &k.spn_host else { return };
        if urls.len() < 2 && !found_elsewhere {
            return;
        }
        let servers = if found_elsewhere {
            "servers found through DNS, the Global Catalog or referrals".to_owned()
        } else {
            format!("{} URLs", urls.len())
        };
        self.warnings.push(format!(
            "directories.{name}.bind_spn_host = \"{host}\" names one server's service (ldap/{host}), but the directory \
             has {servers}: a Kerberos bind after a failover to another server fails; remove bind_spn_host (each \
             server's own host name is then used) or list only that server"
        ));
    }

    /// A DN as RFC 4514 reads it; an error names the key and the position.
    pub(super) fn dn(&mut self, v: &Spanned<String>, key: &str) -> Dn {
        Dn::parse(v.get_ref()).unwrap_or_else(|e| {
            self.c.at(span(v), key, format!("{e} (write it as, e.g., \"OU=Staff,DC=example,DC=test\")"));
            Dn::root()
        })
    }

    fn policy(&mut self, raw: Option<RawPolicy>, base_dn: &Spanned<String>, key: &str) -> ScopePolicy {
        let base = self.dn(base_dn, &key.replace(".policy", ".base_dn"));
        let mut policy = ScopePolicy::defaults(&base);
        let Some(raw) = raw else { return policy };
        if let Some(ops) = raw.allowed_operations {
            for op in ops.get_ref() {
                if !policy.allowed_operations.contains(op) {
                    let msg = format!("\"{op}\" is not an AD operation: expected ad.create_user, ad.update_user, …");
                    self.c.at(Some(ops.span()), &format!("{key}.allowed_operations"), msg);
                }
            }
            policy.allowed_operations = ops.into_inner();
        }
        if let Some(ous) = raw.allowed_ous {
            let k = format!("{key}.allowed_ous");
            let parsed: Vec<Dn> = ous
                .get_ref()
                .iter()
                .map(|o| {
                    let o = Spanned::new(ous.span(), o.clone());
                    self.dn(&o, &k)
                })
                .collect();
            if parsed.is_empty() || parsed.iter().any(Dn::is_root) {
                self.c.at(
                    Some(ous.span()),
                    &k,
                    "expected a non-empty list of DNs such as \"OU=Staff,DC=example,DC=test\"",
                );
            }
            policy.allowed_ous = parsed;
        }
        if let Some(groups) = raw.protected_groups {
            if groups.get_ref().iter().any(|g| g.trim().is_empty()) {
                self.c.at(
                    Some(groups.span()),
                    &format!("{key}.protected_groups"),
                    "holds an empty name: expected a DN, CN, sAMAccountName or SID",
                );
            }
            policy.protected_groups = groups.into_inner();
        }
        if let Some(attrs) = raw.writable_attributes {
            if attrs.get_ref().iter().any(|a| a.trim().is_empty()) {
                self.c.at(Some(attrs.span()), &format!("{key}.writable_attributes"), "holds an empty attribute name");
            }
            policy.writable_attributes = Some(attrs.into_inner());
        }
        policy.protected_refresh =
            self.duration(&raw.protected_refresh, &format!("{key}.protected_refresh"), policy.protected_refresh);
        policy
    }
}

pub(super) struct ConnectorPart {
    name: String,
    hostname: String,
    max_concurrency: usize,
    drain_grace: Duration,
    retention: Duration,
    max_attempts: u32,
    shed_logins_after: Option<Duration>,
}

/// `{username}` is replaced by the RFC 4515-escaped user name. The term naming one entry
/// comes first: Samba evaluates an AND's indexes in order, and with the class first a
/// login's search cost its DC 5 ms of CPU instead of 0.25 (README "Benchmarks").
fn default_user_filter(kind: DirectoryKind) -> &'static str {
    match kind {
        DirectoryKind::ActiveDirectory => {
            "(&(|(sAMAccountName={username})(userPrincipalName={username}))(objectClass=user)(objectCategory=person))"
        }
        DirectoryKind::Ldap => "(&(objectClass=inetOrgPerson)(|(uid={username})(mail={username})))",
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Checks a filter template by substituting a harmless user name.
fn ldap3_filter_ok(template: &str) -> Result<(), ()> {
    let probe = template.replace("{username}", "probe");
    if probe.starts_with('(') && probe.ends_with(')') && probe.matches('(').count() == probe.matches(')').count() {
        Ok(())
    } else {
        Err(())
    }
}
