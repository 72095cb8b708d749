//! Payload masking (RFC 6455 §5.3): in place, or while copying so a client never touches the
//! caller's payload. Word-wide safe code that the compiler vectorises; on x86-64 the same code is
//! also compiled for AVX2 and chosen at run time (std caches the CPU feature check).
#![allow(unsafe_code)]

/// Bytes handled per step of the wide loop; a multiple of 4 keeps the key phase aligned.
const STEP: usize = 32;

/// The key as seen from payload position `offset`.
#[inline(always)]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    let o = offset & 3;
    [key[o], key[(o + 1) & 3], key[(o + 2) & 3], key[(o + 3) & 3]]
}

#[inline(always)]
fn wide(key: [u8; 4]) -> u64 {
    u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ])
}

#[inline(always)]
fn xor_in_place(buf: &mut [u8], key: [u8; 4]) {
    let k = wide(key);
    let mut chunks = buf.chunks_exact_mut(STEP);
    for chunk in &mut chunks {
        for word in chunk.chunks_exact_mut(8) {
            let w = u64::from_ne_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]) ^ k;
            word.copy_from_slice(&w.to_ne_bytes());
        }
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

#[inline(always)]
fn xor_copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let k = wide(key);
    let mut d = dst.chunks_exact_mut(STEP);
    let mut s = src.chunks_exact(STEP);
    for (dc, sc) in (&mut d).zip(&mut s) {
        for (dw, sw) in dc.chunks_exact_mut(8).zip(sc.chunks_exact(8)) {
            let w =
                u64::from_ne_bytes([sw[0], sw[1], sw[2], sw[3], sw[4], sw[5], sw[6], sw[7]]) ^ k;
            dw.copy_from_slice(&w.to_ne_bytes());
        }
    }
    for (i, (db, sb)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *db = sb ^ key[i & 3];
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn xor_in_place_avx2(buf: &mut [u8], key: [u8; 4]) {
    xor_in_place(buf, key);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn xor_copy_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    xor_copy(dst, src, key);
}

/// Masks (or unmasks) `buf` in place, where `buf[0]` is payload byte number `offset`.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotated(key, offset);
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= 64 && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above; the function is otherwise safe.
        unsafe { xor_in_place_avx2(buf, key) };
        return;
    }
    xor_in_place(buf, key);
}

/// Copies `src` into `dst` while masking it, where `src[0]` is payload byte number `offset`.
///
/// # Panics
/// If `dst` and `src` differ in length (a bug in the caller, never peer input).
pub fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len(), "mask_copy: length mismatch");
    let key = rotated(key, offset);
    #[cfg(target_arch = "x86_64")]
    if src.len() >= 64 && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above; the function is otherwise safe.
        unsafe { xor_copy_avx2(dst, src, key) };
        return;
    }
    xor_copy(dst, src, key);
}

/// The portable path alone, for benchmarks against the dispatched one.
#[doc(hidden)]
pub fn apply_mask_portable(buf: &mut [u8], key: [u8; 4], offset: usize) {
    xor_in_place(buf, rotated(key, offset));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_naive_at_every_offset_alignment_and_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for align in 0..64 {
            for len in 0..300 {
                for offset in 0..4 {
                    let src = &data[align..align + len];
                    let mut expected = src.to_vec();
                    naive(&mut expected, key, offset);
                    let mut in_place = src.to_vec();
                    apply_mask(&mut in_place, key, offset);
                    assert_eq!(in_place, expected);
                    let mut portable = src.to_vec();
                    apply_mask_portable(&mut portable, key, offset);
                    assert_eq!(portable, expected);
                    let mut copy = vec![0; len + 64];
                    mask_copy(&mut copy[align..align + len], src, key, offset);
                    assert_eq!(&copy[align..align + len], &expected[..]);
                }
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole() {
        let key = [9, 8, 7, 6];
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in [1, 3, 5, 64, 333, 999] {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(split);
            apply_mask(a, key, 0);
            apply_mask(b, key, split);
            assert_eq!(pieces, whole);
        }
    }
}
