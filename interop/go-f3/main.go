// Command f3harness generates FRC-0108 fixtures with go-f3 and reports how
// go-f3 judges F3 snapshots and Filecoin snapshot CARs.
package main

import (
	"fmt"
	"os"
	"strings"
)

const usage = `usage: f3harness <command> [args]

commands:
  gen --out DIR [--real-data DIR]    write the deterministic fixtures to DIR; the real mainnet
                                     data comes from --real-data (default ../../../shared/real-data)
  gen-scale --out FILE [--participants N] [--instances M] [--seed S]
                                     write a large mainnet-shaped F3 snapshot
  import FILE [--manifest FILE] [--reopen]
                                     go-f3's ImportSnapshotToDatastore (raw F3Data or CAR);
                                     --reopen then opens the imported store as a node would
  import-batch FILE [FILE ...]       import for each file, one JSON line each (with "file")
  validate FILE [--network NAME]     go-f3's ValidateFinalityCertificates over the chain
  validate-batch [--network NAME] FILE [FILE ...]
                                     validate for each file, one JSON line each (with "file")
  assemble --initial-power-table PT.json --certificates CERTS.json [--first-instance N] [--car] --out FILE
                                     F3 data from a JSON power table and F3GetCertificate JSON
                                     (array or NDJSON), via go-f3's certstore and its export;
                                     --car wraps it in a v2 snapshot CAR
  dump FILE                          the snapshot header, then each certificate, one JSON line
                                     each (go-f3's types through encoding/json)
  bench FILE [--validate] [--network NAME]
                                     decode/import (and validation) throughput
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

func run(cmd string, args []string) int {
	switch cmd {
	case "gen":
		return runGen(args)
	case "gen-scale":
		return runGenScale(args)
	case "import":
		return runImport(args)
	case "import-batch":
		return runImportBatch(args)
	case importChildCmd:
		return runImportChild(args)
	case "validate":
		return runValidate(args)
	case "validate-batch":
		return runValidateBatch(args)
	case validateChildCmd:
		return runValidateChild(args)
	case "assemble":
		return runAssemble(args)
	case "dump":
		return runDump(args)
	case "bench":
		return runBench(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n%s", cmd, usage)
		return 2
	}
}

// parseArgs splits args into positional arguments and --name value flags.
// takesValue lists the flags that take a value; others are booleans.
func parseArgs(args []string, takesValue map[string]bool) ([]string, map[string]string, error) {
	var pos []string
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		val := ""
		hasVal := false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, hasVal = k, v, true
		}
		if takesValue[name] {
			if !hasVal {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				val = args[i]
			}
		} else if _, known := takesValue[name]; known {
			if !hasVal {
				val = "true"
			}
		} else {
			return nil, nil, fmt.Errorf("unknown flag --%s", name)
		}
		flags[name] = val
	}
	return pos, flags, nil
}
