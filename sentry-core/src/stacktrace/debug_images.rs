//! The loaded images (`debug_meta.images`) that let a server symbolicate `instruction_addr`
//! frames of a stripped build: each ELF file mapped into the process with its load address,
//! size and GNU build id (as `code_id`, and as `debug_id` in Sentry's byte order).
//!
//! Read from `/proc/self/maps` and the ELF files themselves (64-bit little-endian: x86_64,
//! aarch64), once per process; other platforms send no images (the frames still carry
//! function, file and line resolved on the device).

use once_cell::sync::Lazy;
use serde_json::{json, Value};

/// One mapped ELF image.
#[derive(Debug, Clone)]
struct Image {
    start: u64,
    end: u64,
    /// Its `debug_meta` entry, built once.
    json: Value,
}

static IMAGES: Lazy<Vec<Image>> = Lazy::new(load_images);

/// `{"images": [...]}` for the images that contain any of `addresses`; `None` if none do.
pub(crate) fn debug_meta_for(addresses: &[u64]) -> Option<Value> {
    if addresses.is_empty() {
        return None;
    }
    let images: Vec<Value> = IMAGES
        .iter()
        .filter(|img| addresses.iter().any(|a| (img.start..img.end).contains(a)))
        .map(|img| img.json.clone())
        .collect();
    (!images.is_empty()).then(|| json!({ "images": images }))
}

fn image_json(path: &str, start: u64, end: u64, build_id: &[u8]) -> Value {
    json!({
        "type": "elf",
        "code_file": path,
        "image_addr": format!("0x{start:x}"),
        "image_size": end - start,
        "code_id": hex(build_id),
        "debug_id": debug_id(build_id),
        "arch": std::env::consts::ARCH,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first 16 bytes of the build id read as a little-endian GUID (how Sentry derives an ELF
/// debug id): the first three fields are byte-swapped.
fn debug_id(build_id: &[u8]) -> String {
    let mut b = [0u8; 16];
    let n = build_id.len().min(16);
    b[..n].copy_from_slice(&build_id[..n]);
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn load_images() -> Vec<Image> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    // path -> (lowest start, highest end)
    let mut ranges: Vec<(String, u64, u64)> = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_perms), Some(_offset), Some(_dev), Some(_inode), Some(path)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        match ranges.iter_mut().find(|(p, _, _)| p == path) {
            Some((_, s, e)) => {
                *s = (*s).min(start);
                *e = (*e).max(end);
            }
            None => ranges.push((path.to_owned(), start, end)),
        }
    }
    ranges
        .into_iter()
        .filter_map(|(path, start, end)| {
            let build_id = read_build_id(&path)?;
            Some(Image {
                start,
                end,
                json: image_json(&path, start, end, &build_id),
            })
        })
        .collect()
}

/// The `NT_GNU_BUILD_ID` note of a 64-bit little-endian ELF file, from its `PT_NOTE` segments.
fn read_build_id(path: &str) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header).ok()?;
    if &header[0..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None; // not ELF64 little-endian
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let phoff = u64_at(&header, 0x20);
    let phentsize = usize::from(u16_at(&header, 0x36));
    let phnum = usize::from(u16_at(&header, 0x38));
    if phentsize < 56 || phnum == 0 || phnum > 256 {
        return None;
    }
    let mut phdrs = vec![0u8; phentsize * phnum];
    file.seek(SeekFrom::Start(phoff)).ok()?;
    file.read_exact(&mut phdrs).ok()?;
    for ph in phdrs.chunks_exact(phentsize) {
        const PT_NOTE: u32 = 4;
        if u32_at(ph, 0) != PT_NOTE {
            continue;
        }
        let (offset, size) = (u64_at(ph, 8), u64_at(ph, 32));
        if size == 0 || size > 64 * 1024 {
            continue;
        }
        let mut notes = vec![0u8; size as usize];
        file.seek(SeekFrom::Start(offset)).ok()?;
        file.read_exact(&mut notes).ok()?;
        if let Some(id) = find_gnu_build_id(&notes) {
            return Some(id);
        }
    }
    None
}

fn find_gnu_build_id(mut notes: &[u8]) -> Option<Vec<u8>> {
    const NT_GNU_BUILD_ID: u32 = 3;
    let align = |n: usize| (n + 3) & !3;
    while notes.len() >= 12 {
        let word = |o: usize| {
            u32::from_le_bytes([notes[o], notes[o + 1], notes[o + 2], notes[o + 3]]) as usize
        };
        let (namesz, descsz, kind) = (word(0), word(4), word(8) as u32);
        let name_end = 12 + align(namesz);
        let desc_end = name_end + align(descsz);
        if desc_end > notes.len() {
            return None;
        }
        if kind == NT_GNU_BUILD_ID && &notes[12..12 + namesz] == b"GNU\0" {
            return Some(notes[name_end..name_end + descsz].to_vec());
        }
        notes = &notes[desc_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_id_swaps_the_first_three_fields() {
        let build_id: Vec<u8> = (0u8..20).collect();
        assert_eq!(debug_id(&build_id), "03020100-0504-0706-0809-0a0b0c0d0e0f");
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }

    #[test]
    fn notes_are_parsed() {
        let mut notes = Vec::new();
        // An unrelated note first, then the build id.
        for (kind, name, desc) in [
            (1u32, &b"XYZ\0"[..], &[9u8; 6][..]),
            (3, b"GNU\0", &[0xaa, 0xbb, 0xcc]),
        ] {
            notes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            notes.extend_from_slice(&(desc.len() as u32).to_le_bytes());
            notes.extend_from_slice(&kind.to_le_bytes());
            notes.extend_from_slice(name);
            notes.extend_from_slice(desc);
            while notes.len() % 4 != 0 {
                notes.push(0);
            }
        }
        assert_eq!(find_gnu_build_id(&notes), Some(vec![0xaa, 0xbb, 0xcc]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_test_binary_is_an_image_with_a_build_id() {
        let here = this_test_binary_is_an_image_with_a_build_id as fn() as usize as u64;
        let meta = debug_meta_for(&[here]).expect("the running binary is mapped");
        let image = &meta["images"][0];
        assert_eq!(image["type"], "elf");
        assert_eq!(image["code_id"].as_str().unwrap().len(), 40, "{image}");
        assert!(image["code_file"].as_str().unwrap().contains("sentry_core"));
    }
}
