//! Where an index's files may live: the one rule both the index client (which links on a page
//! are candidates) and the lock validator (which URLs a lock may name) apply.
//!
//! A hostile or compromised index page can link anywhere: `file:///etc/passwd`, `javascript:`,
//! another company's host. lbuild only takes files over http(s) from the index's own origin, the
//! origin of the page that listed them (after redirects), or the file host a well-known index
//! publishes on (PyPI serves pages from `pypi.org` and files from `files.pythonhosted.org`).

use url::Url;

/// File hosts of well-known indexes whose pages and files are on different origins:
/// (index host, file host).
const KNOWN_FILE_HOSTS: &[(&str, &str)] =
    &[("pypi.org", "files.pythonhosted.org"), ("test.pypi.org", "test-files.pythonhosted.org")];

/// Whether `file` may be downloaded as a file of the index at `index` (listed on `page`, when
/// known). Only http and https are ever allowed.
pub(crate) fn file_url_allowed(index: &Url, page: Option<&Url>, file: &Url) -> bool {
    if !matches!(file.scheme(), "http" | "https") || file.host_str().is_none() {
        return false;
    }
    let same_origin = |other: &Url| other.origin() == file.origin();
    if same_origin(index) || page.is_some_and(same_origin) {
        return true;
    }
    let (Some(index_host), Some(file_host)) = (index.host_str(), file.host_str()) else { return false };
    file.scheme() == "https"
        && KNOWN_FILE_HOSTS
            .iter()
            .any(|(known_index, known_files)| *known_index == index_host && *known_files == file_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn only_http_files_on_the_index_page_or_known_file_host_are_allowed() {
        let index = url("https://pypi.org/simple/");
        let page = url("https://pypi.org/simple/six/");
        let allowed = |file: &str| file_url_allowed(&index, Some(&page), &url(file));
        assert!(allowed("https://pypi.org/packages/six-1.0-py3-none-any.whl"));
        assert!(allowed("https://files.pythonhosted.org/packages/ab/six-1.0-py3-none-any.whl"));
        assert!(!allowed("http://files.pythonhosted.org/packages/six-1.0-py3-none-any.whl"));
        assert!(!allowed("file:///etc/passwd"));
        assert!(!allowed("https://evil.example/six-1.0-py3-none-any.whl"));
        assert!(!allowed("http://pypi.org/six-1.0-py3-none-any.whl"), "another scheme is another origin");
        assert!(!allowed("https://pypi.org:8443/six-1.0-py3-none-any.whl"), "another port is another origin");
        let private = url("http://127.0.0.1:8080/simple/");
        let redirected = url("http://127.0.0.1:9090/simple/six/");
        assert!(file_url_allowed(&private, Some(&redirected), &url("http://127.0.0.1:9090/f/six-1.0.whl")));
        assert!(!file_url_allowed(&private, None, &url("http://127.0.0.1:9090/f/six-1.0.whl")));
        assert!(!file_url_allowed(&private, None, &url("https://files.pythonhosted.org/six-1.0.whl")));
    }
}
