//! The loaded images (`debug_meta.images`) that let a server symbolicate `instruction_addr`
//! frames of a stripped build: each executable and shared library in the process with its
//! load address, size and identifiers, in the form Sentry expects for the platform:
//!
//! - ELF (Linux, Android, the BSDs): `code_id` is the GNU build id, `debug_id` its first 16
//!   bytes read as a little-endian GUID;
//! - Mach-O (macOS, iOS): `debug_id` is the `LC_UUID`, `image_vmaddr` the preferred address;
//! - PE (Windows): `code_id` is the timestamp and image size, `debug_id` the PDB GUID and
//!   age, `debug_file` the PDB path.
//!
//! The list comes from the platform loader (`dl_iterate_phdr`, dyld, the Win32 module list,
//! through the `findshlibs` crate), read once per process on the SDK thread. Images without
//! an identifier are left out: a server could not match them to debug files anyway.

use findshlibs::{SharedLibrary, SharedLibraryId, TargetSharedLibrary};
use once_cell::sync::Lazy;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// One loaded image.
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

/// What the loader says of one image, independent of the platform.
struct Loaded {
    code_file: String,
    debug_file: Option<String>,
    start: u64,
    size: u64,
    /// The preferred load address (Mach-O sends it as `image_vmaddr`).
    stated_start: u64,
    code_id: Option<SharedLibraryId>,
    debug_id: Option<SharedLibraryId>,
}

/// The `debug_meta` entry for one image; `None` when it has no usable identifier.
fn image_json(image: &Loaded) -> Option<Value> {
    let mut out = Map::new();
    match (&image.code_id, &image.debug_id) {
        (Some(SharedLibraryId::GnuBuildId(build_id)), _) if !build_id.is_empty() => {
            out.insert("type".into(), "elf".into());
            out.insert("code_id".into(), hex(build_id).into());
            // Sentry reads an ELF build id as a GUID in the file's byte order: swapped on
            // little-endian targets only (the images are this process's own).
            let debug_id = if cfg!(target_endian = "little") {
                guid_le(build_id, None)
            } else {
                Uuid::from_bytes(first_16(build_id)).to_string()
            };
            out.insert("debug_id".into(), debug_id.into());
        }
        (Some(SharedLibraryId::Uuid(uuid)), _) => {
            out.insert("type".into(), "macho".into());
            out.insert(
                "debug_id".into(),
                Uuid::from_bytes(*uuid).to_string().into(),
            );
            out.insert(
                "code_id".into(),
                Uuid::from_bytes(*uuid).simple().to_string().into(),
            );
            out.insert(
                "image_vmaddr".into(),
                format!("0x{:x}", image.stated_start).into(),
            );
        }
        (code_id, Some(SharedLibraryId::PdbSignature(guid, age))) => {
            out.insert("type".into(), "pe".into());
            out.insert("debug_id".into(), guid_le(guid, Some(*age)).into());
            if let Some(SharedLibraryId::PeSignature(timestamp, size)) = code_id {
                // Sentry's PE code id: the timestamp as 8 upper-case hex digits, then the size.
                out.insert("code_id".into(), format!("{timestamp:08X}{size:x}").into());
            }
            if let Some(pdb) = &image.debug_file {
                out.insert("debug_file".into(), pdb.clone().into());
            }
        }
        _ => return None,
    }
    out.insert("code_file".into(), image.code_file.clone().into());
    out.insert("image_addr".into(), format!("0x{:x}", image.start).into());
    out.insert("image_size".into(), image.size.into());
    out.insert("arch".into(), std::env::consts::ARCH.into());
    Some(Value::Object(out))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A GUID from its first 16 bytes stored little-endian, as Windows (and Sentry, for ELF build
/// ids) lays it out: the first three fields are byte-swapped. With `age`, Sentry's PE form
/// `guid-age`.
fn guid_le(bytes: &[u8], age: Option<u32>) -> String {
    let id = Uuid::from_bytes_le(first_16(bytes));
    match age {
        Some(age) => format!("{id}-{age:x}"),
        None => id.to_string(),
    }
}

/// The first 16 bytes, zero-padded.
fn first_16(bytes: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    let n = bytes.len().min(16);
    b[..n].copy_from_slice(&bytes[..n]);
    b
}

fn load_images() -> Vec<Image> {
    let mut images = Vec::new();
    TargetSharedLibrary::each(|lib| {
        let mut code_file = lib.name().to_string_lossy().into_owned();
        if code_file.is_empty() {
            // The main program is listed without a name on Linux.
            code_file = std::env::current_exe()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        let code_id = lib.id();
        let (start, size) = match &code_id {
            // A PE image is addressed from its module base (where its headers are mapped:
            // the server symbolicates `instruction_addr - image_addr` as an RVA), not from
            // its first section, and its size is `SizeOfImage`.
            Some(SharedLibraryId::PeSignature(_, size_of_image)) => (
                lib.virtual_memory_bias().0 as u64,
                u64::from(*size_of_image),
            ),
            _ => (lib.actual_load_addr().0 as u64, lib.len() as u64),
        };
        let loaded = Loaded {
            code_file,
            debug_file: lib.debug_name().map(|n| n.to_string_lossy().into_owned()),
            start,
            size,
            stated_start: lib.stated_load_addr().0 as u64,
            code_id,
            debug_id: lib.debug_id(),
        };
        if let Some(json) = image_json(&loaded) {
            images.push(Image {
                start,
                end: start.saturating_add(size),
                json,
            });
        }
    });
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(code_id: Option<SharedLibraryId>, debug_id: Option<SharedLibraryId>) -> Loaded {
        Loaded {
            code_file: "/app/bin".into(),
            debug_file: Some("C:\\build\\app.pdb".into()),
            start: 0x1000,
            size: 0x2000,
            stated_start: 0x100000000,
            code_id,
            debug_id,
        }
    }

    #[test]
    fn elf_build_id_gives_code_id_and_a_byte_swapped_debug_id() {
        let build_id: Vec<u8> = (0u8..20).collect();
        let json = image_json(&loaded(
            Some(SharedLibraryId::GnuBuildId(build_id.clone())),
            Some(SharedLibraryId::GnuBuildId(build_id)),
        ))
        .unwrap();
        assert_eq!(json["type"], "elf");
        assert_eq!(json["code_id"], "000102030405060708090a0b0c0d0e0f10111213");
        assert_eq!(json["debug_id"], "03020100-0504-0706-0809-0a0b0c0d0e0f");
        assert_eq!(json["image_addr"], "0x1000");
        assert_eq!(json["image_size"], 0x2000);
        assert!(json.get("debug_file").is_none());
    }

    #[test]
    fn macho_uuid_is_the_debug_id_as_is() {
        let uuid: [u8; 16] = std::array::from_fn(|i| 0xa0 + i as u8);
        let json = image_json(&loaded(
            Some(SharedLibraryId::Uuid(uuid)),
            Some(SharedLibraryId::Uuid(uuid)),
        ))
        .unwrap();
        assert_eq!(json["type"], "macho");
        assert_eq!(json["debug_id"], "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
        assert_eq!(json["code_id"], "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        assert_eq!(json["image_vmaddr"], "0x100000000");
        assert_eq!(json["code_file"], "/app/bin");
    }

    #[test]
    fn pe_has_timestamp_size_code_id_and_guid_age_debug_id() {
        // GUID {33221100-5544-7766-8899-AABBCCDDEEFF} as stored in a CodeView record.
        let guid = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let json = image_json(&loaded(
            Some(SharedLibraryId::PeSignature(0x5f3e_1a2b, 0x6000)),
            Some(SharedLibraryId::PdbSignature(guid, 2)),
        ))
        .unwrap();
        assert_eq!(json["type"], "pe");
        assert_eq!(json["debug_id"], "33221100-5544-7766-8899-aabbccddeeff-2");
        assert_eq!(json["code_id"], "5F3E1A2B6000");
        assert_eq!(json["debug_file"], "C:\\build\\app.pdb");
    }

    #[test]
    fn an_image_without_an_identifier_is_left_out() {
        assert!(image_json(&loaded(None, None)).is_none());
        let empty = SharedLibraryId::GnuBuildId(Vec::new());
        assert!(image_json(&loaded(Some(empty), None)).is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_test_binary_is_an_image_with_a_build_id() {
        let here = this_test_binary_is_an_image_with_a_build_id as fn() as usize as u64;
        let meta = debug_meta_for(&[here]).expect("the running binary is listed");
        let image = &meta["images"][0];
        assert_eq!(image["type"], "elf");
        assert_eq!(image["code_id"].as_str().unwrap().len(), 40, "{image}");
        assert!(image["code_file"]
            .as_str()
            .unwrap()
            .contains("sentry_sdk_core"));
        let start = u64::from_str_radix(
            image["image_addr"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert!(start <= here && here < start + image["image_size"].as_u64().unwrap());
    }
}
