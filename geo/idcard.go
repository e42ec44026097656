package geo

// IDCheckDigit computes the ISO 7064 MOD 11-2 check character of a
// mainland Chinese resident ID number (GB 11643) from its first 17 digits.
func IDCheckDigit(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	w := 1 // weights are 2^(17-i) mod 11, built from the right
	for i := 16; i >= 0; i-- {
		w = w * 2 % 11
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// ValidIDNumber tells whether an 18-character ID number has the right
// check character.
func ValidIDNumber(id string) bool {
	if len(id) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return IDCheckDigit(id[:17]) == id[17]
}
