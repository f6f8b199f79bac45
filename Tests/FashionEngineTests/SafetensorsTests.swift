import Foundation
import Testing
import FashionEngine

@Suite struct SafetensorsTests {
    func sample() -> Safetensors {
        var file = Safetensors()
        file.set("0.weight", Safetensors.Entry(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        file.set("0.bias", Safetensors.Entry(shape: [2], floats: [-1, 0.5]))
        file.set("steps", Safetensors.Entry(dtype: "I64", shape: [], bytes: withUnsafeBytes(of: Int64(7).littleEndian, Array.init)))
        file.metadata = ["format": "pt", "note": "hello"]
        return file
    }

    @Test func roundTrip() throws {
        let bytes = sample().encoded()
        let headerLength = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        let parsed = try Safetensors.parse(bytes, name: "m.safetensors")
        #expect(parsed.names == ["0.weight", "0.bias", "steps"])
        #expect(parsed["0.weight"]?.floats() == [1, 2, 3, 4, 5, 6])
        #expect(parsed["0.weight"]?.shape == [2, 3])
        #expect(parsed["steps"]?.integers() == [7])
        #expect(parsed.metadata == ["format": "pt", "note": "hello"])
    }

    /// A file with a hand-written header and `dataSize` bytes of data.
    func file(header: String, dataSize: Int = 8) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + [UInt8](repeating: 0, count: dataSize)
    }

    @Test(arguments: [
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", "outside"),
        ("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype 'Q7'"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 3 × 4 bytes"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "shape is not a list"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "outside"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets"),
        ("{\"__metadata__\":{\"k\":3}}", "not a string"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "names 'a' twice"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "names 'a' twice"),
        ("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "names 'dtype' twice"),
        ("{\"__metadata__\":{\"format\":\"pt\",\"format\":\"other\"}}", "names 'format' twice"),
        ("[1,2]", "not a safetensors file"),
        ("{nope", "not valid JSON"),
    ])
    func rejectsMalformedHeaders(header: String, expected: String) {
        let error = #expect(throws: SafetensorsError.self) { try Safetensors.parse(file(header: header), name: "bad.safetensors") }
        #expect(error?.file == "bad.safetensors")
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test func rejectsHeaderLengthsBeyondTheFile() {
        let huge = withUnsafeBytes(of: UInt64(4_000_000_000).littleEndian, Array.init) + Array("{".utf8) + [UInt8](repeating: 0x20, count: 15)
        let error = #expect(throws: SafetensorsError.self) { try Safetensors.parse(huge, name: "x") }
        #expect(error?.message.contains("beyond the end") == true)
        #expect(throws: SafetensorsError.self) { try Safetensors.parse([1, 2, 3], name: "x") }
    }

    @Test func otherKindsOfFileAreNamed() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        let error = #expect(throws: SafetensorsError.self) { try Safetensors.parse(png, name: "picture.png") }
        #expect(error?.message == "not a safetensors file (after its 8-byte length a safetensors header opens with '{'; it looks like a PNG picture)")
    }

    @Test func modelLoadIsStrict() throws {
        let model = Sequential.mlp(inputs: 4, hidden: [3], classes: 2, seed: 1)
        let other = Sequential.mlp(inputs: 4, hidden: [3], classes: 2, seed: 2)
        try other.load(model.stateDict(), name: "m")
        #expect(other.parameters.map { $0.value.toArray() } == model.parameters.map { $0.value.toArray() })
        var missing = model.stateDict()
        missing = Safetensors()
        #expect(throws: SafetensorsError.self) { try other.load(missing, name: "m") }
        let wrongShape = Sequential.mlp(inputs: 5, hidden: [3], classes: 2, seed: 1)
        let error = #expect(throws: SafetensorsError.self) { try other.load(wrongShape.stateDict(), name: "m") }
        #expect(error?.message == "tensor '0.weight' has shape [3, 5], the model expects [3, 4]")
    }
}
