package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Real mainnet data: the initial power table and the first finality
// certificates as the network published them.
const (
	// defaultRealDataDir is the shared real-data folder, relative to this
	// module (where build.sh runs the harness).
	defaultRealDataDir       = "../../../shared/real-data"
	realDataPowerTableFile   = "filecoin-initial-power-table.json"
	realDataCertificatesFile = "filecoin-certificates-0-9.json"
	// realDataNetwork is the GPBFT network name mainnet signs for.
	realDataNetwork = "filecoin"
)

func checkRealData(dir string) error {
	for _, f := range []string{realDataPowerTableFile, realDataCertificatesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("real data: %v (pass --real-data DIR, the folder holding %s and %s)",
				err, realDataPowerTableFile, realDataCertificatesFile)
		}
	}
	return nil
}

// genRealData writes mainnet's first certificates as go-f3's certstore
// exports them (mainnet-0-9.f3) and inside a v2 snapshot CAR
// (car-v2-mainnet-0-9.car).
func genRealData(g *genOutput, dir string, logf func(string, ...any)) error {
	logf("assembling the real mainnet certificates from %s", dir)
	a, err := assembleFiles(filepath.Join(dir, realDataPowerTableFile), filepath.Join(dir, realDataCertificatesFile), nil)
	if err != nil {
		return fmt.Errorf("real data: %w", err)
	}
	parts := len(a.Header.InitialPowerTable)
	car, _, _, err := snapshotCarAround(a)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name, ext string
		data      []byte
		seed      uint64
	}{
		{"mainnet-0-9", ".f3", a.Data, 0},
		{"car-v2-mainnet-0-9", ".car", car, realDataCarSeed},
	} {
		side, err := g.fixtureOn(realDataNetwork, f.name, f.ext, f.data, f.seed, parts, "valid")
		if err != nil {
			return err
		}
		if side.Validation.Result != "accept" || side.Import.Result != "accept" {
			return fmt.Errorf("%s: go-f3 does not accept the real certificates: validation %+v, import %+v", f.name, side.Validation, side.Import)
		}
	}
	return nil
}
