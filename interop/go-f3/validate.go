package main

import (
	"github.com/filecoin-project/go-f3/gpbft"
)

func validateFile(path string, network gpbft.NetworkName) error {
	data, err := readInput(path)
	if err != nil {
		return err
	}
	return validateBytes(data, network)
}

func validateBytes(data []byte, network gpbft.NetworkName) error {
	f3, _, err := f3BytesOf(data)
	if err != nil {
		return err
	}
	snap, err := decodeF3(f3)
	if err != nil {
		return err
	}
	return validateSnapshot(snap, network)
}

func runValidate(args []string) int {
	pos, flags, err := parseArgs(args, map[string]bool{"network": true})
	if err != nil || len(pos) != 1 {
		printJSONLine(outcome{Result: "reject", Error: "usage: validate FILE [--network NAME]"})
		return 2
	}
	network := gpbft.NetworkName(fixtureNetwork)
	if n, ok := flags["network"]; ok {
		network = gpbft.NetworkName(n)
	}
	err = guard(func() error { return validateFile(pos[0], network) })
	printJSONLine(toOutcome(err))
	return 0
}
