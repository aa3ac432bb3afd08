package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRealDataFixtures(t *testing.T) {
	idx := loadIndex(t)
	for _, name := range []string{"mainnet-0-9", "car-v2-mainnet-0-9"} {
		if idx.FixtureNetworks[name] != realDataNetwork {
			t.Errorf("%s: index network %q", name, idx.FixtureNetworks[name])
		}
		sc := loadSidecar(t, name)
		if sc.Network != realDataNetwork || sc.F3Cid != mainnetF3Cid || sc.FinalPowerTableCid != mainnetFinalTableCid ||
			sc.Certificates != 10 || sc.Participants != 1560 || sc.Signatures != "valid" {
			t.Errorf("%s: sidecar %+v", name, sc)
		}
		if sc.Header == nil || sc.Header.InitialPowerTableCid != mainnetInitialTableCid || sc.Header.LatestInstance != 9 {
			t.Errorf("%s: header %+v", name, sc.Header)
		}
	}
	if sc := loadSidecar(t, "mainnet-0-9"); sc.Size != mainnetF3Bytes || sc.Kind != "f3data" {
		t.Errorf("mainnet-0-9: %s of %d bytes", sc.Kind, sc.Size)
	}
	if err := checkRealData(filepath.Join(t.TempDir(), "nowhere")); err == nil || !strings.Contains(err.Error(), "--real-data") {
		t.Errorf("missing real data: %v", err)
	}
}

func TestValidateBatchRealData(t *testing.T) {
	fx := func(n string) string { return filepath.Join(vectorsDir, n) }
	var real []outcome
	validateBatchFiles([]string{fx("mainnet-0-9.f3"), fx("car-v2-mainnet-0-9.car")}, realDataNetwork,
		func(_ string, o outcome) { real = append(real, o) })
	for i, o := range real {
		if o.Result != "accept" {
			t.Errorf("real data %d under %q: %+v", i, realDataNetwork, o)
		}
	}
}
