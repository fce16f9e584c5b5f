//! "Did you mean": the project a misspelled name was meant to be.
//!
//! No index lists its projects cheaply (PyPI's root page names over half a million), so the
//! candidates are the names that typos usually come from: the most downloaded projects on PyPI
//! (the table below), then the spellings one swap of neighbouring letters away. Each candidate
//! is asked of the registry before it is offered, so a suggestion always exists on the index the
//! workspace uses.

use super::registry::Registry;

/// Some of the most downloaded projects on PyPI, normalized: the names misspellings come from.
const POPULAR: &[&str] = &[
    "aiobotocore",
    "aiohttp",
    "aiosignal",
    "alembic",
    "annotated-types",
    "anyio",
    "apache-airflow",
    "argon2-cffi",
    "arrow",
    "asgiref",
    "async-timeout",
    "attrs",
    "authlib",
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "awscli",
    "awswrangler",
    "azure-core",
    "azure-identity",
    "azure-storage-blob",
    "babel",
    "backoff",
    "bcrypt",
    "beautifulsoup4",
    "black",
    "bleach",
    "blinker",
    "boto3",
    "boto3-stubs",
    "botocore",
    "botocore-stubs",
    "cachetools",
    "celery",
    "certifi",
    "cffi",
    "chardet",
    "charset-normalizer",
    "click",
    "cloudpickle",
    "colorama",
    "coverage",
    "cryptography",
    "cython",
    "dataclasses-json",
    "decorator",
    "defusedxml",
    "deprecated",
    "dill",
    "distlib",
    "django",
    "djangorestframework",
    "dnspython",
    "docker",
    "docutils",
    "elasticsearch",
    "email-validator",
    "et-xmlfile",
    "exceptiongroup",
    "fastapi",
    "fastjsonschema",
    "filelock",
    "flake8",
    "flask",
    "frozenlist",
    "fsspec",
    "gevent",
    "google-api-core",
    "google-auth",
    "google-cloud-storage",
    "googleapis-common-protos",
    "greenlet",
    "grpcio",
    "gunicorn",
    "h11",
    "h2",
    "httpcore",
    "httplib2",
    "httpx",
    "huggingface-hub",
    "idna",
    "importlib-metadata",
    "iniconfig",
    "isodate",
    "itsdangerous",
    "jinja2",
    "jmespath",
    "joblib",
    "jsonpatch",
    "jsonpointer",
    "jsonschema",
    "jwcrypto",
    "kafka-python",
    "kombu",
    "langchain",
    "lxml",
    "mangum",
    "markdown",
    "markupsafe",
    "marshmallow",
    "matplotlib",
    "more-itertools",
    "msgpack",
    "multidict",
    "mypy",
    "mypy-extensions",
    "mysqlclient",
    "networkx",
    "nltk",
    "numpy",
    "oauthlib",
    "openai",
    "openpyxl",
    "opensearch-py",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "orjson",
    "packaging",
    "pandas",
    "paramiko",
    "pathspec",
    "pendulum",
    "pillow",
    "pip",
    "platformdirs",
    "pluggy",
    "prometheus-client",
    "protobuf",
    "psutil",
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "pyarrow",
    "pyasn1",
    "pycparser",
    "pycryptodome",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "pygments",
    "pyjwt",
    "pymongo",
    "pymysql",
    "pynacl",
    "pyopenssl",
    "pyparsing",
    "pytest",
    "pytest-cov",
    "python-dateutil",
    "python-dotenv",
    "python-jose",
    "python-multipart",
    "pytz",
    "pyyaml",
    "redis",
    "regex",
    "requests",
    "requests-aws4auth",
    "requests-oauthlib",
    "requests-toolbelt",
    "rich",
    "rsa",
    "ruamel-yaml",
    "s3fs",
    "s3transfer",
    "scikit-learn",
    "scipy",
    "sentry-sdk",
    "setuptools",
    "simplejson",
    "six",
    "slack-sdk",
    "sniffio",
    "soupsieve",
    "sqlalchemy",
    "sqlparse",
    "starlette",
    "stripe",
    "structlog",
    "sympy",
    "tabulate",
    "tenacity",
    "tomli",
    "tomlkit",
    "toolz",
    "tornado",
    "tqdm",
    "twilio",
    "typing-extensions",
    "tzdata",
    "tzlocal",
    "ujson",
    "urllib3",
    "uvicorn",
    "virtualenv",
    "websocket-client",
    "websockets",
    "werkzeug",
    "wheel",
    "wrapt",
    "xlrd",
    "xmltodict",
    "yarl",
    "zipp",
];

/// At most this many spellings are asked of the index for one name.
const MAX_PROBES: usize = 12;

/// The project `name` (normalized, found nowhere) was probably meant to be, if one exists.
pub(super) fn suggest(registry: &dyn Registry, name: &str) -> Option<String> {
    // A name pinned to a private index (or the find-links directories) was asked of that index
    // alone; spellings of it must not go to the others, the public one among them.
    if registry.pinned(name) {
        return None;
    }
    let mut candidates: Vec<(usize, String)> = POPULAR
        .iter()
        .map(|known| (strsim::damerau_levenshtein(name, known), known.to_string()))
        .filter(|(distance, known)| *distance > 0 && *distance <= allowed(name, known))
        .collect();
    candidates.sort();
    // Then one swap of neighbouring letters (`reqeusts`), which a short table cannot cover.
    let chars: Vec<char> = name.chars().collect();
    for index in 0..chars.len().saturating_sub(1) {
        if chars[index] == chars[index + 1] {
            continue;
        }
        let mut swapped = chars.clone();
        swapped.swap(index, index + 1);
        candidates.push((1, swapped.into_iter().collect()));
    }
    let mut asked = std::collections::BTreeSet::new();
    candidates
        .into_iter()
        .filter(|(_, candidate)| asked.insert(candidate.clone()))
        .take(MAX_PROBES)
        .find(|(_, candidate)| registry.project(candidate).is_ok_and(|project| !project.files.is_empty()))
        .map(|(_, candidate)| candidate)
}

/// How many edits a name may be from a known one: a short name is easily close to many.
fn allowed(name: &str, known: &str) -> usize {
    match name.len().min(known.len()) {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_normalized_and_sorted() {
        for pair in POPULAR.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        for name in POPULAR {
            assert_eq!(crate::python::wheel_name::normalize_name(name), *name);
        }
    }

    #[test]
    fn short_names_need_an_exact_match() {
        assert_eq!(allowed("h2", "h11"), 0);
        assert_eq!(allowed("numpi", "numpy"), 1);
        assert_eq!(allowed("reqests", "requests"), 2);
    }
}
