// Command probe is the one program of the end-to-end test image.
//
//	probe serve             HTTP on :8080, answering every request with the hostname
//	probe get URL           print the body of a GET (fails unless 2xx)
//	probe await URL         the same, retried every 500 ms for up to 60 s: a client in a
//	                        just-started pod, whose server, Service endpoints or network
//	                        policy rules (programmed after the pod starts) may lag behind
//	probe lookup NAME       print the addresses NAME resolves to (fails if none)
//	probe write FILE TEXT   write TEXT to FILE
//	probe read FILE         print FILE
//	probe sleep             wait until terminated
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe serve | get URL | lookup NAME | write FILE TEXT | read FILE | sleep")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		serve()
	case "get":
		need(args, 1)
		get(args[0])
	case "await":
		need(args, 1)
		await(args[0], 60*time.Second)
	case "lookup":
		need(args, 1)
		lookup(args[0])
	case "write":
		need(args, 2)
		if err := os.WriteFile(args[0], []byte(args[1]), 0o644); err != nil {
			fail(err.Error())
		}
	case "read":
		need(args, 1)
		data, err := os.ReadFile(args[0])
		if err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(data)
	case "sleep":
		waitForSignal()
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func serve() {
	hostname, _ := os.Hostname()
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, hostname)
	})
	server := &http.Server{Addr: ":8080", Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		waitForSignal()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fail(err.Error())
	}
}

func get(url string) {
	client := http.Client{Timeout: 5 * time.Second}
	response, err := client.Get(url)
	if err != nil {
		fail(err.Error())
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	if response.StatusCode/100 != 2 {
		fail(fmt.Sprintf("%s: HTTP %d: %s", url, response.StatusCode, body))
	}
	os.Stdout.Write(body)
}

func await(url string, patience time.Duration) {
	client := http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(patience)
	for {
		response, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(response.Body)
			response.Body.Close()
			if response.StatusCode/100 == 2 {
				os.Stdout.Write(body)
				return
			}
			err = fmt.Errorf("%s: HTTP %d: %s", url, response.StatusCode, body)
		}
		if time.Now().After(deadline) {
			fail(fmt.Sprintf("%v (still failing after %s)", err, patience))
		}
		fmt.Fprintf(os.Stderr, "probe: %v; retrying\n", err)
		time.Sleep(500 * time.Millisecond)
	}
}

func lookup(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addresses, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(strings.Join(addresses, "\n"))
}

func waitForSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}

func need(args []string, n int) {
	if len(args) < n {
		fail(fmt.Sprintf("%s needs %d argument(s)", os.Args[1], n))
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "probe:", message)
	os.Exit(1)
}
