#![no_main]
use libfuzzer_sys::fuzz_target;
use lowbit_websockets::mask::{apply_mask, apply_mask_portable, mask_copy};
use lowbit_websockets_fuzz::mask_scalar;
fuzz_target!(|data: &[u8]| {
    let [k0, k1, k2, k3, offset, split, payload @ ..] = data else {
        return;
    };
    let (key, offset) = ([*k0, *k1, *k2, *k3], usize::from(*offset));
    let split = usize::from(*split) % (payload.len() + 1);
    let [mut expected, mut pieces, mut portable, mut copied] = [(); 4].map(|()| payload.to_vec());
    mask_scalar(&mut expected, key, offset);
    let (a, b) = pieces.split_at_mut(split);
    apply_mask(a, key, offset);
    apply_mask(b, key, offset + split);
    apply_mask_portable(&mut portable, key, offset);
    mask_copy(&mut copied, payload, key, offset);
    assert!(pieces == expected && portable == expected && copied == expected);
});
