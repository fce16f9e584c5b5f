//! A fake package index on 127.0.0.1: PyPI JSON API, PEP 503/691 simple pages, PEP 658
//! `.metadata` files and HTTP range requests, over a minimal HTTP/1.1 server.
//!
//! Routes (project names are matched after PEP 503 normalization; unknown projects are 404):
//! - `GET /pypi/<name>/json`: PyPI JSON API (`info`, `releases`, `urls`).
//! - `GET /pypi/<name>/<version>/json`: always 404, as on many mirrors.
//! - `GET /simple/` and `GET /simple/<name>/`: PEP 691 JSON when the `Accept` header names
//!   `application/vnd.pypi.simple.v1+json`, PEP 503 HTML otherwise.
//! - `GET /files/<filename>` (with `Range` support) and `GET /files/<filename>.metadata`.
//! - `HEAD` on any of these: the same headers, no body. Anything else: 404.
//!
//! Every request is logged as `"METHOD /target"`, plus `" <Range header>"` when one was sent.
//!
//! For hostile-index tests, [`FakeIndex::serve`] answers one exact path with a [`Canned`]
//! response (a hand-written page, a body that drips a byte at a time, a huge generated body),
//! and [`FakeIndex::add_header`] adds a header (e.g. `Cache-Control: no-store`) to real routes.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use super::scenario::{PackageSpec, Scenario};
use super::wheel::{build_sdist, build_wheel, metadata_text, normalize_name, sha256_hex};

/// What the index serves besides the basics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexOptions {
    /// Serve PEP 658 `.metadata` files and advertise them (`core-metadata`).
    pub metadata_files: bool,
    /// Answer `Range` requests on files with 206; otherwise send the whole file with 200.
    pub range_requests: bool,
    /// Give file URLs relative to the page (`../../files/x.whl`) instead of absolute ones.
    pub relative_urls: bool,
    /// Answer simple pages with PEP 503 HTML whatever the `Accept` header asks (pypiserver).
    pub html_only: bool,
    /// Leave `Requires-Python` out of the index pages (it stays in the wheels' metadata).
    pub hide_requires_python: bool,
    /// Require HTTP basic auth with this user and password on every route (else 401).
    pub basic_auth: Option<(&'static str, &'static str)>,
}

impl Default for IndexOptions {
    fn default() -> IndexOptions {
        IndexOptions {
            metadata_files: true,
            range_requests: true,
            relative_urls: false,
            html_only: false,
            hide_requires_python: false,
            basic_auth: None,
        }
    }
}

/// A running fake index; dropping it stops the server and closes its connections.
pub struct FakeIndex {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FakeIndex {
    /// Serves `scenario` on a free port of 127.0.0.1.
    pub fn start(scenario: &Scenario, options: IndexOptions) -> FakeIndex {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake index");
        let addr = listener.local_addr().expect("fake index address");
        let shared = Arc::new(Shared {
            options,
            stop: AtomicBool::new(false),
            catalog: Mutex::new(Catalog::default()),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
            canned: Mutex::new(HashMap::new()),
            extra_headers: Mutex::new(Vec::new()),
        });
        for package in &scenario.packages {
            shared.publish(package);
        }
        let accept_shared = Arc::clone(&shared);
        let accept_thread = std::thread::Builder::new()
            .name(format!("fake-index-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn the fake index thread");
        FakeIndex { addr, shared, accept_thread: Some(accept_thread) }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{url}/pypi`.
    pub fn json_api_url(&self) -> String {
        format!("{}/pypi", self.url())
    }

    /// `{url}/simple`.
    pub fn simple_url(&self) -> String {
        format!("{}/simple", self.url())
    }

    /// The absolute URL of a served file.
    pub fn file_url(&self, filename: &str) -> String {
        format!("{}/files/{filename}", self.url())
    }

    /// Adds a version while running. Publishing an existing name and version replaces that
    /// release (files are deterministic, so e.g. `.yanked()` toggles only the yank).
    pub fn publish(&self, package: PackageSpec) {
        self.shared.publish(&package);
    }

    /// Publishes `package` with one wheel given as raw bytes (however malformed) and the
    /// `.metadata` file served for it, replacing any release of the same name and version.
    pub fn publish_raw_wheel(&self, package: &PackageSpec, filename: &str, bytes: Vec<u8>, metadata: Vec<u8>) {
        let metadata_sha256 = sha256_hex(&metadata);
        let python_version = filename.rsplit('-').nth(2).unwrap_or("py3").to_string();
        let file = Arc::new(DistFile {
            filename: filename.to_string(),
            python_version,
            is_wheel: true,
            sha256: sha256_hex(&bytes),
            bytes,
            metadata: Some((metadata, metadata_sha256)),
        });
        self.shared.insert_release(package, vec![file]);
    }

    /// Publishes `package` with one sdist given as raw bytes (a test's own build backend inside),
    /// replacing any release of the same name and version.
    pub fn publish_raw_sdist(&self, package: &PackageSpec, filename: &str, bytes: Vec<u8>) {
        let file = Arc::new(DistFile {
            filename: filename.to_string(),
            python_version: "source".to_string(),
            is_wheel: false,
            sha256: sha256_hex(&bytes),
            bytes,
            metadata: None,
        });
        self.shared.insert_release(package, vec![file]);
    }

    /// The request log, in arrival order: `"GET /path"` or `"GET /path bytes=0-99"`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// Hex sha256 of a served file (wheel or sdist).
    pub fn file_sha256(&self, filename: &str) -> Option<String> {
        lock(&self.shared.catalog).files.get(filename).map(|file| file.sha256.clone())
    }

    /// The bytes of a served file (wheel or sdist).
    pub fn file_bytes(&self, filename: &str) -> Option<Vec<u8>> {
        lock(&self.shared.catalog).files.get(filename).map(|file| file.bytes.clone())
    }

    /// The next `times` requests whose path starts with `path_prefix` get `status` with a
    /// short text body. Faults are checked in the order they were set.
    pub fn set_fault(&self, path_prefix: &str, status: u16, times: usize) {
        self.inject(path_prefix, Fault::Status(status), times);
    }

    /// The next `times` requests whose path starts with `path_prefix` suffer `fault`.
    pub fn inject(&self, path_prefix: &str, fault: Fault, times: usize) {
        if times > 0 {
            lock(&self.shared.faults).push(FaultRule { prefix: path_prefix.to_string(), fault, remaining: times });
        }
    }
}

/// A hand-written answer for one path. `{base}` in a [`CannedBody::Bytes`] body becomes the
/// index's URL (`http://127.0.0.1:PORT`).
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: CannedBody,
}

#[derive(Debug, Clone)]
pub enum CannedBody {
    Bytes(Vec<u8>),
    /// `len` bytes (Content-Length declared), one every `interval`: a slow-loris server.
    Drip {
        len: usize,
        interval: std::time::Duration,
    },
    /// `len` bytes generated while they are sent; with `declare_length` false the length is
    /// not announced and the connection closes after the body.
    Huge {
        len: u64,
        declare_length: bool,
    },
}

impl Canned {
    /// A 200 HTML page.
    pub fn html(body: &str) -> Canned {
        Canned {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: CannedBody::Bytes(body.as_bytes().to_vec()),
        }
    }

    /// A 200 response with a generated or dripping body.
    pub fn body(content_type: &'static str, body: CannedBody) -> Canned {
        Canned { status: 200, content_type, headers: Vec::new(), body }
    }
}

impl FakeIndex {
    /// Answer every request for exactly `path` (e.g. `/simple/six/`) with `canned`.
    pub fn serve(&self, path: &str, canned: Canned) {
        lock(&self.shared.canned).insert(path.to_string(), canned);
    }

    /// Add a header to every response whose path starts with `path_prefix`.
    pub fn add_header(&self, path_prefix: &str, name: &'static str, value: &str) {
        lock(&self.shared.extra_headers).push((path_prefix.to_string(), name, value.to_string()));
    }
}

impl Drop for FakeIndex {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
        for (_, stream) in lock(&self.shared.connections).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct Shared {
    options: IndexOptions,
    stop: AtomicBool,
    catalog: Mutex<Catalog>,
    log: Mutex<Vec<String>>,
    faults: Mutex<Vec<FaultRule>>,
    /// Open connections, so that dropping the index can close them.
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
    /// Hand-written answers by exact path.
    canned: Mutex<HashMap<String, Canned>>,
    /// (path prefix, name, value) headers added to responses.
    extra_headers: Mutex<Vec<(String, &'static str, String)>>,
}

/// What can go wrong with one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a short text body.
    Status(u16),
    /// Answer with this status and `Retry-After: seconds`.
    RetryAfter(u16, u64),
    /// Send the headers (with the full `Content-Length`) and half the body, then close.
    CutBody,
    /// Send the body with every byte changed (same length).
    CorruptBody,
    /// Wait this long before answering.
    Delay(std::time::Duration),
    /// Answer `302 Found` with this `Location`.
    Redirect(String),
    /// Answer `304 Not Modified` with this `ETag` (none when empty), whatever was asked.
    NotModified(String),
}

struct FaultRule {
    prefix: String,
    fault: Fault,
    remaining: usize,
}

#[derive(Default)]
struct Catalog {
    /// By normalized name.
    projects: BTreeMap<String, Project>,
    /// By filename.
    files: HashMap<String, Arc<DistFile>>,
    serial: u64,
}

struct Project {
    display_name: String,
    releases: Vec<Release>,
}

struct Release {
    version: String,
    requires_python: Option<String>,
    requires_dist: Vec<String>,
    provides_extra: Vec<String>,
    yanked: bool,
    files: Vec<Arc<DistFile>>,
}

struct DistFile {
    filename: String,
    /// `"cp312"`, `"py3"`, ... or `"source"` for an sdist.
    python_version: String,
    is_wheel: bool,
    bytes: Vec<u8>,
    sha256: String,
    /// The wheel's METADATA (PEP 658), with its hex sha256.
    metadata: Option<(Vec<u8>, String)>,
}

impl Shared {
    fn publish(&self, package: &PackageSpec) {
        let mut files = Vec::new();
        for spec in package.wheel_specs() {
            let (filename, bytes) = build_wheel(&spec);
            let metadata = metadata_text(&spec).into_bytes();
            let metadata_sha256 = sha256_hex(&metadata);
            let python_version = spec.tag.split('-').next().unwrap_or_default().to_string();
            files.push(Arc::new(DistFile {
                filename,
                python_version,
                is_wheel: true,
                sha256: sha256_hex(&bytes),
                bytes,
                metadata: Some((metadata, metadata_sha256)),
            }));
        }
        if package.sdist {
            let (filename, bytes) = build_sdist(&package.name, &package.version);
            files.push(Arc::new(DistFile {
                filename,
                python_version: "source".to_string(),
                is_wheel: false,
                sha256: sha256_hex(&bytes),
                bytes,
                metadata: None,
            }));
        }

        self.insert_release(package, files);
    }

    fn insert_release(&self, package: &PackageSpec, files: Vec<Arc<DistFile>>) {
        let mut catalog = lock(&self.catalog);
        catalog.serial += 1;
        for file in &files {
            catalog.files.insert(file.filename.clone(), Arc::clone(file));
        }
        let project = catalog
            .projects
            .entry(normalize_name(&package.name))
            .or_insert_with(|| Project { display_name: package.name.clone(), releases: Vec::new() });
        project.releases.retain(|r| r.version != package.version);
        project.releases.push(Release {
            version: package.version.clone(),
            // pypiserver publishes no Requires-Python: only the metadata has it.
            requires_python: if self.options.hide_requires_python { None } else { package.requires_python.clone() },
            requires_dist: package.requires_dist.clone(),
            provides_extra: package.provides_extra.clone(),
            yanked: package.yanked,
            files,
        });
        project.releases.sort_by(|a, b| VersionKey::parse(&a.version).cmp(&VersionKey::parse(&b.version)));
    }

    /// Takes one use of the first fault matching `path`, if any.
    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| path.starts_with(&f.prefix))?;
        let fault = faults[index].fault.clone();
        faults[index].remaining -= 1;
        if faults[index].remaining == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    fn respond(&self, request: &Request, base_url: &str) -> Response {
        let mut entry = format!("{} {}", request.method, request.target);
        if let Some(range) = request.header("range") {
            entry.push(' ');
            entry.push_str(range);
        }
        lock(&self.log).push(entry);

        let path = percent_decode(request.target.split(['?', '#']).next().unwrap_or_default());
        if let Some((user, password)) = &self.options.basic_auth {
            let expected = format!(
                "Basic {}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{user}:{password}"))
            );
            if request.header("authorization") != Some(expected.as_str()) {
                let mut response = Response::text(401, "credentials required\n".to_string());
                response.headers.push(("WWW-Authenticate", "Basic realm=\"fake\"".to_string()));
                return response;
            }
        }
        if let Some(canned) = lock(&self.canned).get(&path).cloned() {
            let mut response = Response::new(canned.status, canned.content_type, Vec::new());
            response.headers = canned.headers;
            match canned.body {
                CannedBody::Bytes(bytes) => {
                    response.body = String::from_utf8_lossy(&bytes).replace("{base}", base_url).into_bytes();
                }
                other => response.stream = Some(other),
            }
            return response;
        }
        let mut damage = None;
        match self.take_fault(&path) {
            Some(Fault::Status(status)) => return Response::text(status, format!("injected fault {status}\n")),
            Some(Fault::RetryAfter(status, seconds)) => {
                let mut response = Response::text(status, format!("injected fault {status}\n"));
                response.headers.push(("Retry-After", seconds.to_string()));
                return response;
            }
            Some(Fault::Delay(duration)) => std::thread::sleep(duration),
            Some(Fault::NotModified(etag)) => {
                let mut response = Response::new(304, "text/html", Vec::new());
                if !etag.is_empty() {
                    response.headers.push(("ETag", etag));
                }
                return response;
            }
            Some(Fault::Redirect(location)) => {
                let mut response = Response::text(302, "moved\n".to_string());
                response.headers.push(("Location", location));
                return response;
            }
            Some(fault) => damage = Some(fault),
            None => {}
        }
        let mut response = self.route(request, &path, base_url);
        for (prefix, name, value) in lock(&self.extra_headers).iter() {
            if path.starts_with(prefix.as_str()) {
                response.headers.push((name, value.clone()));
            }
        }
        match damage {
            Some(Fault::CorruptBody) => response.body.iter_mut().for_each(|byte| *byte ^= 0x5a),
            Some(Fault::CutBody) => response.cut = true,
            _ => {}
        }
        response
    }

    fn route(&self, request: &Request, path: &str, base_url: &str) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            return Response::not_found();
        }
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let catalog = lock(&self.catalog);
        match segments[..] {
            ["pypi", name, "json"] => match catalog.projects.get(&normalize_name(name)) {
                Some(project) => Response::json("application/json", &self.json_api(project, catalog.serial, base_url)),
                None => Response::not_found(),
            },
            ["simple"] | ["simple", ""] => self.simple_root(&catalog, request),
            ["simple", name] | ["simple", name, ""] => match catalog.projects.get(&normalize_name(name)) {
                Some(project) => self.simple_page(project, request, base_url),
                None => Response::not_found(),
            },
            ["files", filename] => self.file(&catalog, filename, request),
            _ => Response::not_found(),
        }
    }

    fn file_url(&self, base_url: &str, filename: &str) -> String {
        if self.options.relative_urls {
            // Both `/pypi/<name>/json` and `/simple/<name>/` are two levels below the root.
            format!("../../files/{filename}")
        } else {
            format!("{base_url}/files/{filename}")
        }
    }

    fn json_api(&self, project: &Project, serial: u64, base_url: &str) -> Value {
        let file_json = |release: &Release, file: &DistFile| {
            let mut value = json!({
                "filename": file.filename,
                "url": self.file_url(base_url, &file.filename),
                "size": file.bytes.len(),
                "packagetype": if file.is_wheel { "bdist_wheel" } else { "sdist" },
                "python_version": file.python_version,
                "requires_python": release.requires_python,
                "yanked": release.yanked,
                "yanked_reason": Value::Null,
                "digests": { "sha256": file.sha256 },
            });
            if self.options.metadata_files {
                value["core-metadata"] = match &file.metadata {
                    Some((_, sha256)) => json!({ "sha256": sha256 }),
                    None => json!(false),
                };
            }
            value
        };

        let latest = latest_release(&project.releases);
        let releases: serde_json::Map<String, Value> = project
            .releases
            .iter()
            .map(|release| {
                let files = release.files.iter().map(|f| file_json(release, f)).collect();
                (release.version.clone(), Value::Array(files))
            })
            .collect();
        let urls: Vec<Value> =
            latest.map(|release| release.files.iter().map(|f| file_json(release, f)).collect()).unwrap_or_default();
        let non_empty = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
        json!({
            "info": {
                "name": project.display_name,
                "version": latest.map(|r| r.version.clone()),
                "summary": format!("Test package {}", project.display_name),
                "requires_python": latest.and_then(|r| r.requires_python.clone()),
                "requires_dist": latest.and_then(|r| non_empty(&r.requires_dist)),
                "provides_extra": latest.and_then(|r| non_empty(&r.provides_extra)),
                "yanked": latest.is_some_and(|r| r.yanked),
                "yanked_reason": Value::Null,
            },
            "last_serial": serial,
            "releases": releases,
            "urls": urls,
            "vulnerabilities": [],
        })
    }

    fn simple_root(&self, catalog: &Catalog, request: &Request) -> Response {
        if wants_simple_json(request) && !self.options.html_only {
            let projects: Vec<Value> = catalog.projects.values().map(|p| json!({ "name": p.display_name })).collect();
            let body = json!({ "meta": { "api-version": "1.1" }, "projects": projects });
            return Response::json(SIMPLE_JSON, &body).vary_accept();
        }
        let mut html = html_head("Simple index");
        for (name, project) in &catalog.projects {
            html.push_str(&format!(
                "    <a href=\"{}/\">{}</a><br />\n",
                escape_html(name),
                escape_html(&project.display_name)
            ));
        }
        html.push_str(HTML_TAIL);
        Response::html(html).vary_accept()
    }

    fn simple_page(&self, project: &Project, request: &Request, base_url: &str) -> Response {
        let files = project.releases.iter().flat_map(|release| release.files.iter().map(move |file| (release, file)));
        let advertised_metadata = |file: &DistFile| {
            file.metadata.as_ref().filter(|_| self.options.metadata_files).map(|(_, sha256)| sha256.clone())
        };

        if wants_simple_json(request) && !self.options.html_only {
            let files: Vec<Value> = files
                .map(|(release, file)| {
                    let core_metadata = match advertised_metadata(file) {
                        Some(sha256) => json!({ "sha256": sha256 }),
                        None => json!(false),
                    };
                    let mut value = json!({
                        "filename": file.filename,
                        "url": self.file_url(base_url, &file.filename),
                        "hashes": { "sha256": file.sha256 },
                        "size": file.bytes.len(),
                        "yanked": release.yanked,
                        "core-metadata": core_metadata,
                        "dist-info-metadata": core_metadata,
                    });
                    if let Some(requires_python) = &release.requires_python {
                        value["requires-python"] = json!(requires_python);
                    }
                    value
                })
                .collect();
            let versions: Vec<&str> = project.releases.iter().map(|r| r.version.as_str()).collect();
            let body = json!({
                "meta": { "api-version": "1.1" },
                "name": normalize_name(&project.display_name),
                "versions": versions,
                "files": files,
            });
            return Response::json(SIMPLE_JSON, &body).vary_accept();
        }

        let mut html = html_head(&format!("Links for {}", project.display_name));
        for (release, file) in files {
            let href = format!("{}#sha256={}", self.file_url(base_url, &file.filename), file.sha256);
            let mut anchor = format!("    <a href=\"{}\"", escape_html(&href));
            if let Some(requires_python) = &release.requires_python {
                anchor.push_str(&format!(" data-requires-python=\"{}\"", escape_html(requires_python)));
            }
            if release.yanked {
                anchor.push_str(" data-yanked=\"\"");
            }
            if let Some(sha256) = advertised_metadata(file) {
                anchor.push_str(&format!(
                    " data-core-metadata=\"sha256={sha256}\" data-dist-info-metadata=\"sha256={sha256}\""
                ));
            }
            anchor.push_str(&format!(">{}</a><br />\n", escape_html(&file.filename)));
            html.push_str(&anchor);
        }
        html.push_str(HTML_TAIL);
        Response::html(html).vary_accept()
    }

    fn file(&self, catalog: &Catalog, filename: &str, request: &Request) -> Response {
        let body = if let Some(file) = catalog.files.get(filename) {
            file.bytes.clone()
        } else if let Some(wheel) = filename.strip_suffix(".metadata") {
            match catalog.files.get(wheel).and_then(|f| f.metadata.as_ref()) {
                Some((metadata, _)) if self.options.metadata_files => metadata.clone(),
                _ => return Response::not_found(),
            }
        } else {
            return Response::not_found();
        };

        let mut response = Response::new(200, "application/octet-stream", Vec::new());
        if !self.options.range_requests {
            response.body = body;
            return response;
        }
        response.headers.push(("Accept-Ranges", "bytes".to_string()));
        let total = body.len();
        match request.header("range").map(|r| parse_range(r, total)) {
            None | Some(RangeRequest::Ignored) => response.body = body,
            Some(RangeRequest::Unsatisfiable) => {
                response.status = 416;
                response.headers.push(("Content-Range", format!("bytes */{total}")));
                response.content_type = "text/plain";
            }
            Some(RangeRequest::Bytes(start, end)) => {
                response.status = 206;
                response.headers.push(("Content-Range", format!("bytes {start}-{end}/{total}")));
                response.body = body[start..=end].to_vec();
            }
        }
        response
    }
}

/// The release `info` describes: non-yanked first, then non-prerelease, then the highest.
fn latest_release(releases: &[Release]) -> Option<&Release> {
    releases.iter().max_by_key(|release| {
        let key = VersionKey::parse(&release.version);
        (!release.yanked, !key.is_prerelease(), key)
    })
}

const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";
const HTML_TAIL: &str = "  </body>\n</html>\n";

fn wants_simple_json(request: &Request) -> bool {
    request.header("accept").is_some_and(|a| a.contains(SIMPLE_JSON))
}

fn html_head(title: &str) -> String {
    let title = escape_html(title);
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    \
         <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n"
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok().and_then(|h| u8::from_str_radix(h, 16).ok()));
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a `Range` header applies to a body of a given length.
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// Inclusive byte positions.
    Bytes(usize, usize),
    Unsatisfiable,
    /// Malformed, multi-range or another unit: answer with the whole body.
    Ignored,
}

fn parse_range(header: &str, total: usize) -> RangeRequest {
    let Some((unit, spec)) = header.trim().split_once('=') else {
        return RangeRequest::Ignored;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // bytes=-n: the last n bytes.
        return match last.parse::<usize>() {
            Ok(n) if n == 0 || total == 0 => RangeRequest::Unsatisfiable,
            Ok(n) => RangeRequest::Bytes(total.saturating_sub(n), total - 1),
            Err(_) => RangeRequest::Ignored,
        };
    }
    // bytes=a- and bytes=a-b.
    let Ok(start) = first.parse::<usize>() else {
        return RangeRequest::Ignored;
    };
    let end = if last.is_empty() {
        None
    } else {
        match last.parse::<usize>() {
            Ok(end) if end >= start => Some(end),
            _ => return RangeRequest::Ignored,
        }
    };
    if start >= total {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Bytes(start, end.map_or(total - 1, |end| end.min(total - 1)))
}

/// A comparable PEP 440 version: epoch, release, pre, post, dev; the local part and any
/// unparsed suffix only break ties.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct VersionKey {
    epoch: u64,
    release: Vec<u64>,
    /// (0, ..) dev release without pre/post, (1, phase, n) pre-release, (2, ..) final.
    pre: (u8, u8, u64),
    /// (0, 0) none, (1, n) post-release n.
    post: (u8, u64),
    /// (0, n) dev release n, (1, 0) none.
    dev: (u8, u64),
    rest: String,
}

impl VersionKey {
    fn parse(version: &str) -> VersionKey {
        let lower = version.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix('v').unwrap_or(&lower);
        let (public, local) = lower.split_once('+').unwrap_or((lower, ""));
        let (epoch, public) = match public.split_once('!') {
            Some((epoch, rest)) => (epoch.parse().unwrap_or(0), rest),
            None => (0, public),
        };

        let release_end = public.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(public.len());
        let mut release: Vec<u64> = public[..release_end].split('.').filter_map(|n| n.parse().ok()).collect();
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }

        let (mut pre, mut post, mut dev) = (None, None, None);
        let mut rest = String::new();
        let mut suffix = public[release_end..].trim_start_matches('.');
        while !suffix.is_empty() {
            let implicit_post = suffix.starts_with('-');
            let trimmed = suffix.trim_start_matches(['.', '_', '-']);
            let word_end = trimmed.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(trimmed.len());
            let (word, after) = trimmed.split_at(word_end);
            let after = after.strip_prefix(['.', '_', '-']).unwrap_or(after);
            let digits_end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            let number: u64 = after[..digits_end].parse().unwrap_or(0);
            match word {
                "a" | "alpha" => pre = Some((0, number)),
                "b" | "beta" => pre = Some((1, number)),
                "rc" | "c" | "pre" | "preview" => pre = Some((2, number)),
                "post" | "rev" | "r" => post = Some(number),
                "" if implicit_post && digits_end > 0 => post = Some(number),
                "dev" => dev = Some(number),
                _ => {
                    rest = suffix.to_string();
                    break;
                }
            }
            suffix = &after[digits_end..];
        }

        VersionKey {
            epoch,
            release,
            pre: match (pre, post, dev) {
                (Some((phase, n)), _, _) => (1, phase, n),
                (None, None, Some(_)) => (0, 0, 0),
                _ => (2, 0, 0),
            },
            post: post.map_or((0, 0), |n| (1, n)),
            dev: dev.map_or((1, 0), |n| (0, n)),
            rest: format!("{rest}+{local}"),
        }
    }

    fn is_prerelease(&self) -> bool {
        self.pre.0 < 2 || self.dev.0 == 0
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let base_url = format!("http://{}", listener.local_addr().expect("listener address"));
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let shared = Arc::clone(&shared);
        let base_url = base_url.clone();
        let spawned = std::thread::Builder::new().name(format!("fake-index-conn-{id}")).spawn(move || {
            let _ = serve_connection(&shared, stream, &base_url);
            lock(&shared.connections).remove(&id);
        });
        if spawned.is_err() {
            break;
        }
    }
}

struct Request {
    method: String,
    target: String,
    /// Lowercased names.
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

const MAX_LINE: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;

/// Reads one CRLF- or LF-terminated line; `None` at end of stream.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = reader.take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE || !line.ends_with(b"\n") {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "header line too long or truncated"));
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}

fn bad_request(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_string())
}

/// Reads a request head (and skips any body); `None` when the client closed the connection.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let parts: Vec<&str> = request_line.split_whitespace().collect();
    let [method, target, version] = parts[..] else {
        return Err(bad_request("malformed request line"));
    };
    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else {
            return Err(bad_request("connection closed inside the headers"));
        };
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(bad_request("too many headers"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad_request("malformed header"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let connection = headers
        .iter()
        .filter(|(n, _)| n == "connection")
        .map(|(_, v)| v.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let keep_alive =
        if version == "HTTP/1.0" { connection.contains("keep-alive") } else { !connection.contains("close") };
    let request = Request { method: method.to_string(), target: target.to_string(), headers, keep_alive };
    if let Some(length) = request.header("content-length") {
        let length: u64 = length.parse().map_err(|_| bad_request("bad Content-Length"))?;
        std::io::copy(&mut reader.take(length), &mut std::io::sink())?;
    }
    Ok(Some(request))
}

fn serve_connection(shared: &Shared, stream: TcpStream, base_url: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let response = Response::text(400, "bad request\n".to_string());
                return response.write(&mut writer, false, false);
            }
            Err(e) => return Err(e),
        };
        let response = shared.respond(&request, base_url);
        response.write(&mut writer, request.method == "HEAD", request.keep_alive)?;
        if !request.keep_alive {
            let _ = writer.shutdown(Shutdown::Write);
            return Ok(());
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Send only half the body and close the connection.
    cut: bool,
    /// A body sent as it is generated, instead of `body`.
    stream: Option<CannedBody>,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response { status, content_type, headers: Vec::new(), body, cut: false, stream: None }
    }

    fn text(status: u16, body: String) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into_bytes())
    }

    fn not_found() -> Response {
        Response::text(404, "not found\n".to_string())
    }

    fn json(content_type: &'static str, value: &Value) -> Response {
        let body = serde_json::to_vec(value).expect("serialize JSON");
        Response::new(200, content_type, body)
    }

    fn html(html: String) -> Response {
        Response::new(200, "text/html; charset=utf-8", html.into_bytes())
    }

    fn vary_accept(mut self) -> Response {
        self.headers.push(("Vary", "Accept".to_string()));
        self
    }

    fn write(&self, out: &mut impl Write, head_only: bool, keep_alive: bool) -> std::io::Result<()> {
        if let Some(stream) = &self.stream {
            return self.write_stream(out, stream, head_only);
        }
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason_phrase(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if !head_only {
            let body = if self.cut { &self.body[..self.body.len() / 2] } else { &self.body[..] };
            bytes.extend_from_slice(body);
        }
        out.write_all(&bytes)?;
        out.flush()?;
        if self.cut && !head_only {
            return Err(std::io::Error::other("body cut short on purpose"));
        }
        Ok(())
    }
}

impl Response {
    /// Write a generated or dripping body; the connection closes after it.
    fn write_stream(&self, out: &mut impl Write, stream: &CannedBody, head_only: bool) -> std::io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\n",
            self.status,
            reason_phrase(self.status),
            self.content_type
        );
        match stream {
            CannedBody::Drip { len, .. } => head.push_str(&format!("Content-Length: {len}\r\n")),
            CannedBody::Huge { len, declare_length: true } => head.push_str(&format!("Content-Length: {len}\r\n")),
            _ => {}
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        out.write_all(head.as_bytes())?;
        out.flush()?;
        if head_only {
            return Err(std::io::Error::other("closing after a streamed head"));
        }
        match stream {
            CannedBody::Drip { len, interval } => {
                for _ in 0..*len {
                    out.write_all(b" ")?;
                    out.flush()?;
                    std::thread::sleep(*interval);
                }
            }
            CannedBody::Huge { len, .. } => {
                let chunk = vec![b'a'; 64 * 1024];
                let mut left = *len;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    out.write_all(&chunk[..n])?;
                    left -= n as u64;
                }
            }
            CannedBody::Bytes(bytes) => out.write_all(bytes)?,
        }
        out.flush()?;
        Err(std::io::Error::other("closing after a streamed body"))
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
