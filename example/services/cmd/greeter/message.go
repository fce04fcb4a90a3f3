package main

// Message is the greeter's own text. It lives alone in this file because the
// hot-reload demonstration edits exactly this line.
const Message = "hello from greeter v1"
