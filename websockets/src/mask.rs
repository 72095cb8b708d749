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

/// Copies below this many bytes go to `copy_from_slice`: glibc copies them with vector moves.
const COPY_WIDE_FROM: usize = 4096;

/// Copies `src` into `dst` (same length), at the same speed whatever their relative alignment.
///
/// From 4 KiB up glibc 2.36 copies with `rep movsb`, which on AMD Zen 3 runs at ~2 GB/s
/// instead of ~30 when source and destination differ in alignment (as a frame header makes
/// them), and a forward copy whose destination is 1..63 bytes ahead of its source modulo 4 KiB
/// stalls on false store-to-load dependencies. So wide copies use AVX2 with aligned stores,
/// backwards in that case (`bench/`: the `mem.w1` rows with 16 KiB chunks copy 16 KiB this way).
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= COPY_WIDE_FROM && std::is_x86_feature_detected!("avx2") {
        let ahead = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) & 4095;
        if (1..64).contains(&ahead) {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { copy_backward_avx2(dst, src) };
        } else {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { copy_forward_avx2(dst, src) };
        }
        return;
    }
    dst.copy_from_slice(src);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn copy_forward_avx2(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_store_si256};
    assert_eq!(dst.len(), src.len(), "copy: length mismatch");
    let head = ((dst.as_ptr() as usize).wrapping_neg() & 31).min(dst.len());
    let (dh, dst) = dst.split_at_mut(head);
    let (sh, src) = src.split_at(head);
    dh.copy_from_slice(sh);
    let mut d = dst.chunks_exact_mut(32);
    let mut s = src.chunks_exact(32);
    for (dc, sc) in (&mut d).zip(&mut s) {
        // SAFETY: both chunks are exactly 32 bytes; `dc` starts 32-byte aligned (the head was
        // split off for that and every chunk is 32 bytes), as `_mm256_store_si256` requires;
        // `_mm256_loadu_si256` accepts any alignment.
        unsafe {
            let v = _mm256_loadu_si256(sc.as_ptr().cast::<__m256i>());
            _mm256_store_si256(dc.as_mut_ptr().cast::<__m256i>(), v);
        }
    }
    d.into_remainder().copy_from_slice(s.remainder());
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn copy_backward_avx2(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_store_si256};
    assert_eq!(dst.len(), src.len(), "copy: length mismatch");
    let n = dst.len();
    let tail = ((dst.as_ptr() as usize + n) & 31).min(n);
    let (dst, dt) = dst.split_at_mut(n - tail);
    let (src, st) = src.split_at(n - tail);
    dt.copy_from_slice(st);
    let mut d = dst.rchunks_exact_mut(32);
    let mut s = src.rchunks_exact(32);
    for (dc, sc) in (&mut d).zip(&mut s) {
        // SAFETY: both chunks are exactly 32 bytes; `dc` ends, so starts, 32-byte aligned (the
        // tail was split off for that), as `_mm256_store_si256` requires.
        unsafe {
            let v = _mm256_loadu_si256(sc.as_ptr().cast::<__m256i>());
            _mm256_store_si256(dc.as_mut_ptr().cast::<__m256i>(), v);
        }
    }
    d.into_remainder().copy_from_slice(s.remainder());
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
    fn copy_is_exact_at_every_alignment_and_direction() {
        let src: Vec<u8> = (0..20_000u32).map(|i| (i * 31 + 7) as u8).collect();
        for src_at in [0, 3, 32] {
            for dst_at in [0, 1, 10, 31, 32, 33, 63, 64, 100, 4095] {
                for len in [0, 1, 255, 4095, 4096, 4097, 5000, 16_385] {
                    let mut dst = vec![0u8; len + 4200];
                    copy(&mut dst[dst_at..dst_at + len], &src[src_at..src_at + len]);
                    assert_eq!(&dst[dst_at..dst_at + len], &src[src_at..src_at + len]);
                    assert!(dst[..dst_at].iter().all(|&b| b == 0));
                    assert!(dst[dst_at + len..].iter().all(|&b| b == 0));
                }
            }
        }
        // Overlapping in memory is impossible (`&mut` and `&`), but the backward path is taken
        // whenever the destination is just ahead modulo 4 KiB: check it directly.
        let mut big = vec![0u8; 3 * 4096];
        let (a, b) = big.split_at_mut(4096);
        a.copy_from_slice(&src[..4096]);
        let start = (a.as_ptr() as usize + 4096 + 16).wrapping_sub(b.as_ptr() as usize) & 4095;
        copy(&mut b[start..start + 4096], a);
        assert_eq!(&b[start..start + 4096], &src[..4096]);
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
