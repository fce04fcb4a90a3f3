// hello answers every request with the message baked into its image at build time, so a
// test can tell which build is running.
package main

import (
	_ "embed"
	"net/http"
)

//go:embed message.txt
var message string

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(message))
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		panic(err)
	}
}
