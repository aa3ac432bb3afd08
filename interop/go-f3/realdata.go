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
