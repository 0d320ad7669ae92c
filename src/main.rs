fn main() {
    println!("dpscope");
}
