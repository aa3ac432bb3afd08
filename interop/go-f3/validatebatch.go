package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/filecoin-project/go-f3/gpbft"
)

const validateChildCmd = "__validate-child"

// validateChildHook, when set (only by tests), runs inside the child before
// each file is validated, to simulate go-f3 panicking or dying on it.
var validateChildHook func(path string)

// runValidateBatch validates many files with one worker process: the
// worker validates them in turn (a panic is recovered and reported as
// "crash", as in validate) and prints one verdict per file. If the worker
// dies on a file (a Go fatal error, such as running out of memory or a panic
// on another goroutine, which no recover can catch), that file is reported
// as "crash" with the worker's first error line and a new worker takes the
// remaining files. A batch thus costs one process start, plus one per file
// that kills its worker.
func runValidateBatch(args []string) int {
	pos, flags, err := parseArgs(args, map[string]bool{"network": true})
	if err != nil || len(pos) == 0 {
		fmt.Fprintln(os.Stderr, "usage: validate-batch [--network NAME] FILE [FILE ...]")
		return 2
	}
	network := fixtureNetwork
	if n, ok := flags["network"]; ok {
		network = n
	}
	validateBatchFiles(pos, network, func(file string, o outcome) {
		printJSONLine(struct {
			File string `json:"file"`
			outcome
		}{file, o})
	})
	return 0
}

// validateBatchFiles validates every file in worker processes and calls emit
// once per file, in order.
func validateBatchFiles(files []string, network string, emit func(string, outcome)) {
	for start := 0; start < len(files); {
		done, crash := validateInWorker(files[start:], network, func(i int, o outcome) { emit(files[start+i], o) })
		start += done
		if start < len(files) {
			emit(files[start], crash)
			start++
		}
	}
}

// validateInWorker runs one worker over files; it returns how many verdicts
// the worker printed and, if it stopped before the end, the crash verdict
// for the file it was on.
func validateInWorker(files []string, network string, emit func(int, outcome)) (int, outcome) {
	exe, err := os.Executable()
	if err != nil {
		return 0, outcome{Result: "crash", Error: "cannot find own executable: " + err.Error()}
	}
	cmd := exec.Command(exe, validateChildCmd, network)
	// File names go on stdin, NUL-terminated, so that any name (even one
	// starting with "-") and any number of them pass through.
	var names bytes.Buffer
	for _, f := range files {
		names.WriteString(f)
		names.WriteByte(0)
	}
	cmd.Stdin = &names
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, outcome{Result: "crash", Error: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return 0, outcome{Result: "crash", Error: "starting the validation worker: " + err.Error()}
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	done := 0
	for done < len(files) && sc.Scan() {
		var o outcome
		if json.Unmarshal(sc.Bytes(), &o) != nil || o.Result == "" {
			break
		}
		emit(done, o)
		done++
	}
	// Drain whatever is left so that the worker never blocks on its output.
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if done == len(files) {
		return done, outcome{}
	}
	msg := workerErrorLine(stderr.String())
	if msg == "" && waitErr != nil {
		msg = "validation worker: " + waitErr.Error()
	}
	if msg == "" {
		msg = "validation worker stopped without a verdict"
	}
	return done, outcome{Result: "crash", Error: msg}
}

// workerErrorLine picks what the Go runtime said when the worker died: the
// first "panic:", "fatal error:" or "runtime:" line, or else the first
// non-empty line.
func workerErrorLine(stderr string) string {
	first := ""
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "runtime:") {
			return l
		}
		if first == "" {
			first = l
		}
	}
	return first
}

// runValidateChild is the hidden worker: it reads NUL-terminated file names
// on stdin and prints one validate verdict per file, under the same
// address-space limit as the import child.
func runValidateChild(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: "+validateChildCmd+" NETWORK < NUL-terminated file names")
		return 2
	}
	if lim := importMemoryLimit(); lim > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
	}
	network := gpbft.NetworkName(args[0])
	r := bufio.NewReader(os.Stdin)
	for {
		name, err := r.ReadString(0)
		if err != nil {
			// A last name without its terminator is still a name.
			if name == "" {
				return 0
			}
		} else {
			name = strings.TrimSuffix(name, "\x00")
		}
		o := toOutcome(guard(func() error {
			if validateChildHook != nil {
				validateChildHook(name)
			}
			return validateFile(name, network)
		}))
		printJSONLine(o)
		if err != nil {
			return 0
		}
	}
}
