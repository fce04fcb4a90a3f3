//! A plain HTTP/1.1 server on a free loopback port for tests that need a registry stand-in:
//! one request per connection, answered by a closure, every request recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// `METHOD PATH`, as the request log shows it.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// Starts the server; returns its `127.0.0.1:port` and the log of requests it got.
pub fn serve(answer: impl Fn(&Request) -> Response + Send + 'static) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(request) = read_request(&mut stream) else { continue };
            seen.lock().unwrap().push(request.clone());
            let response = answer(&request);
            let mut bytes = format!(
                "HTTP/1.1 {} Stub\r\nContent-Length: {}\r\nConnection: close\r\n",
                response.status,
                response.body.len()
            )
            .into_bytes();
            for (name, value) in &response.headers {
                bytes.extend(format!("{name}: {value}\r\n").into_bytes());
            }
            bytes.extend(b"\r\n");
            if request.method != "HEAD" {
                bytes.extend(&response.body);
            }
            let _ = stream.write_all(&bytes);
        }
    });
    (address, requests)
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let (mut authorization, mut content_type, mut length) = (None, None, 0usize);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-type" => content_type = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut parts = request_line.split_whitespace();
    Some(Request {
        method: parts.next()?.to_string(),
        path: parts.next()?.to_string(),
        authorization,
        content_type,
        body,
    })
}
