package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/filecoin-project/go-f3/blssig"
	"github.com/filecoin-project/go-f3/gpbft"
	"github.com/filecoin-project/go-f3/sim/signing"
	"go.dedis.ch/kyber/v4"
)

// keyring derives BLS12-381 key pairs (public keys in G1, signatures in G2,
// as go-f3 uses them) deterministically from a seed, and signs with go-f3's
// own blssig signer.
//
// go-f3 keeps its kyber suite in an internal package, so we obtain a scalar of
// the right concrete type from sim/signing's BLS backend once and then set its
// value from our seed. The matching public key is computed with gnark-crypto
// (the curve library go-f3 wraps) and is checked against go-f3's verifier.
type keyring struct {
	template kyber.Scalar
	signers  map[string]*blssig.Signer
	verifier *blssig.Verifier
}

func newKeyring() *keyring {
	_, priv := signing.NewBLSBackend().GenerateKey()
	tmpl, ok := priv.(kyber.Scalar)
	if !ok {
		panic(fmt.Sprintf("unexpected private key type %T", priv))
	}
	return &keyring{
		template: tmpl,
		signers:  make(map[string]*blssig.Signer),
		verifier: blssig.VerifierWithKeyOnG1(),
	}
}

// derive returns the public key for (seed, actor, generation), registering its
// signer. Calling it again with the same arguments returns the same key.
func (k *keyring) derive(seed uint64, actor gpbft.ActorID, generation uint64) gpbft.PubKey {
	var msg [32]byte
	copy(msg[:8], "frc0108k")
	binary.BigEndian.PutUint64(msg[8:], seed)
	binary.BigEndian.PutUint64(msg[16:], uint64(actor))
	binary.BigEndian.PutUint64(msg[24:], generation)
	h := sha256.Sum256(msg[:])
	priv := k.template.Clone().SetBytes(h[:])
	canon, err := priv.MarshalBinary()
	if err != nil {
		panic(err)
	}
	var x big.Int
	x.SetBytes(canon)
	if x.Sign() == 0 {
		panic("derived a zero secret key")
	}
	var pk bls12381.G1Affine
	pk.ScalarMultiplicationBase(&x)
	raw := pk.Bytes()
	pub := gpbft.PubKey(append([]byte(nil), raw[:]...))
	if _, ok := k.signers[string(pub)]; !ok {
		k.signers[string(pub)] = blssig.SignerWithKeyOnG1(pub, priv)
	}
	return pub
}

func (k *keyring) sign(pub gpbft.PubKey, msg []byte) ([]byte, error) {
	s, ok := k.signers[string(pub)]
	if !ok {
		return nil, fmt.Errorf("no secret key for public key %x", []byte(pub))
	}
	return s.Sign(context.Background(), pub, msg)
}
